"""``association_proxy()``: one attribute of related objects, read and written as the owner's own.

``User.keywords = association_proxy("kw_assocs", "keyword")`` shows the ``keyword`` value of
every object in ``User.kw_assocs`` as a list (or set, or dict, following the relationship's
collection); appending a value creates the related object through ``creator``.  Over a
many-to-one or one-to-one relationship the proxy is a single value.  At class level
(``User.keywords``) it builds EXISTS criteria through the relationship: ``any()``, ``has()``,
``contains()`` and comparisons.

The collections it returns are views: every operation reads the relationship's collection
anew, so they follow expiry, reloads and replacement of the collection.
"""

from __future__ import annotations

import enum
import inspect as py_inspect
from collections.abc import (
    Callable,
    Iterable,
    Iterator,
    MutableMapping,
    MutableSequence,
    MutableSet,
)
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from athanor import exc
from athanor.orm.attributes import CollectionAttributeImpl, QueryableAttribute
from athanor.orm.base import _mapper_or_none, class_mapper
from athanor.sql.elements import ColumnElement, ColumnOperators
from athanor.sql.expression import not_, or_

if TYPE_CHECKING:
    from athanor.orm.relationships import RelationshipProperty

_T = TypeVar("_T")


class AssociationProxyExtensionType(enum.StrEnum):
    """The ``extension_type`` of association proxies in ``inspect(cls).all_orm_descriptors``."""

    ASSOCIATION_PROXY = "ASSOCIATION_PROXY"


ASSOCIATION_PROXY = AssociationProxyExtensionType.ASSOCIATION_PROXY

Getter = Callable[[Any], Any]
Setter = Callable[..., None]


def association_proxy(
    target_collection: str,
    attr: str,
    *,
    creator: Callable[..., Any] | None = None,
    getset_factory: Callable[[Any, Any], tuple[Getter, Setter]] | None = None,
    proxy_factory: Callable[..., Any] | None = None,
    proxy_bulk_set: Callable[[Any, Any], None] | None = None,
    info: dict[Any, Any] | None = None,
    cascade_scalar_deletes: bool = False,
    create_on_none_assignment: bool = False,
) -> AssociationProxy[Any]:
    """A class attribute showing ``attr`` of the object(s) in the relationship
    ``target_collection`` (see :class:`AssociationProxy` for the arguments)."""
    return AssociationProxy(
        target_collection,
        attr,
        creator=creator,
        getset_factory=getset_factory,
        proxy_factory=proxy_factory,
        proxy_bulk_set=proxy_bulk_set,
        info=info,
        cascade_scalar_deletes=cascade_scalar_deletes,
        create_on_none_assignment=create_on_none_assignment,
    )


class AssociationProxy(Generic[_T]):
    """The descriptor :func:`association_proxy` puts on a class.

    ``creator`` makes a related object from a new value (``creator(value)``, or
    ``creator(key, value)`` for a dict); by default the related class is called with the
    attribute as keyword (``Keyword(keyword=value)``), or positionally when its constructor
    does not take that keyword.  ``getset_factory(collection_class, proxy_instance)`` returns
    the ``(getter, setter)`` pair used instead of reading and setting ``attr``;
    ``proxy_factory(lazy_collection, creator, attr, proxy_instance)`` returns a collection
    object of your own, and ``proxy_bulk_set(proxy, values)`` fills it on assignment.  For a
    single related object, ``cascade_scalar_deletes`` makes assigning None remove the related
    object as well, and ``create_on_none_assignment`` makes assigning None create one when
    there is none.
    """

    is_attribute = True
    extension_type = ASSOCIATION_PROXY
    is_aliased_class = False
    is_bundle = False
    is_clause_element = False
    is_instance = False
    is_mapper = False
    is_property = False
    is_selectable = False

    def __init__(
        self,
        target_collection: str,
        attr: str,
        *,
        creator: Callable[..., Any] | None = None,
        getset_factory: Callable[[Any, Any], tuple[Getter, Setter]] | None = None,
        proxy_factory: Callable[..., Any] | None = None,
        proxy_bulk_set: Callable[[Any, Any], None] | None = None,
        info: dict[Any, Any] | None = None,
        cascade_scalar_deletes: bool = False,
        create_on_none_assignment: bool = False,
    ) -> None:
        for what, value in (("target_collection", target_collection), ("attr", attr)):
            if not isinstance(value, str) or not value:
                raise exc.ArgumentError(
                    f"association_proxy() takes attribute names: {what} must be the name of "
                    f"an attribute as a string, got {value!r}"
                )
        self.target_collection = target_collection
        self.value_attr = attr
        self.creator = creator
        self.getset_factory = getset_factory
        self.proxy_factory = proxy_factory
        self.proxy_bulk_set = proxy_bulk_set
        self.cascade_scalar_deletes = cascade_scalar_deletes
        self.create_on_none_assignment = create_on_none_assignment
        self.key = f"_{type(self).__name__}_{target_collection}_{id(self)}"
        """The proxy's name on its class once assigned there (a unique placeholder before)."""
        self._info = info
        self._for_classes: dict[type, AssociationProxyInstance[_T]] = {}

    @property
    def info(self) -> dict[Any, Any]:
        """A dict for your own data about this proxy."""
        if self._info is None:
            self._info = {}
        return self._info

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    @overload
    def __get__(self, instance: None, owner: None) -> AssociationProxy[_T]: ...

    @overload
    def __get__(self, instance: None, owner: type) -> AssociationProxyInstance[_T]: ...

    @overload
    def __get__(self, instance: object, owner: Any) -> _T: ...

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            if owner is None or _mapper_or_none(owner) is None:
                # Read while the class is being declared (a dataclass field default, say).
                return self
            return self.for_class(owner)
        return self.for_class(type(instance)).get(instance)

    def __set__(self, instance: Any, value: Any) -> None:
        if value is self:
            # The class-level default a dataclass __init__ assigns: nothing was given.
            return
        self.for_class(type(instance)).set(instance, value)

    def __delete__(self, instance: Any) -> None:
        self.for_class(type(instance)).delete(instance)

    def for_class(self, class_: type, obj: Any = None) -> AssociationProxyInstance[_T]:
        """This proxy as seen from the mapped class ``class_`` (what ``class_.<name>`` gives)."""
        found = self._for_classes.get(class_)
        if found is None:
            found = AssociationProxyInstance.for_proxy(self, class_, obj)
            self._for_classes[class_] = found
        return found

    def __repr__(self) -> str:
        return f"association_proxy({self.target_collection!r}, {self.value_attr!r})"


class _LazyCollection:
    """Reads the owner's relationship each call, so a view follows reloads and replacement."""

    __slots__ = ("parent", "target")

    def __init__(self, parent: Any, target: str) -> None:
        self.parent = parent
        self.target = target

    def __call__(self) -> Any:
        return getattr(self.parent, self.target)


class AssociationProxyInstance(ColumnOperators, Generic[_T]):
    """An association proxy bound to one mapped class: ``User.keywords`` at class level.

    It knows both ends (``local_attr``, the relationship; ``remote_attr``, the proxied
    attribute of the related class), reads and writes instances (``get``/``set``/``delete``)
    and builds the class-level criteria.
    """

    def __init__(
        self,
        parent: AssociationProxy[_T],
        owning_class: type,
        target_class: type,
        value_attr: str,
        relationship: RelationshipProperty,
    ) -> None:
        self.parent = parent
        self.owning_class = owning_class
        self.target_class = target_class
        self.target_collection = parent.target_collection
        self.value_attr = value_attr
        self._relationship = relationship
        self.scalar: bool = not relationship.uselist
        """Whether the relationship holds one object (the proxy is then a single value)."""
        self.collection_class: type | None = None
        """``list``, ``set`` or ``dict``: the kind of collection proxied (None when scalar)."""
        if not self.scalar:
            impl = relationship.impl
            if not isinstance(impl, CollectionAttributeImpl):
                raise exc.ArgumentError(
                    f"association_proxy({parent.target_collection!r}, {value_attr!r}) on "
                    f"{owning_class.__name__}: {relationship} is a {relationship.lazy!r} "
                    "relationship, which holds no collection in memory to proxy; proxy a "
                    "relationship with a loaded collection"
                )
            sample = impl.factory()
            self.collection_class = (
                dict if isinstance(sample, dict) else set if isinstance(sample, set) else list
            )
        if parent.getset_factory is not None:
            self._getter, self._setter = parent.getset_factory(self.collection_class, self)
        else:
            self._getter, self._setter = self._default_getset()
        self._creator: Callable[..., Any] | None = parent.creator

    @classmethod
    def for_proxy(
        cls, parent: AssociationProxy[_T], owning_class: type, parent_instance: Any = None
    ) -> AssociationProxyInstance[_T]:
        """The proxy ``parent`` bound to ``owning_class``: column-valued or object-valued
        according to what ``attr`` is on the related class."""
        from athanor.orm.relationships import RelationshipProperty

        mapper = class_mapper(owning_class)
        name = parent.target_collection
        prop = mapper._props.get(name)
        if not isinstance(prop, RelationshipProperty):
            what = "has no mapped attribute" if prop is None else "has no relationship"
            raise exc.InvalidRequestError(
                f"association_proxy({name!r}, {parent.value_attr!r}) on "
                f"{owning_class.__name__}: {owning_class.__name__} {what} {name!r}; the first "
                "argument names a relationship of the class"
            )
        target_class = prop.mapper.class_
        remote = getattr(target_class, parent.value_attr, None)
        if isinstance(remote, AssociationProxyInstance):
            kind: type[AssociationProxyInstance[_T]] = type(remote)
        elif isinstance(remote, QueryableAttribute) and getattr(
            remote.prop, "is_relationship", False
        ):
            kind = ObjectAssociationProxyInstance
        elif isinstance(remote, QueryableAttribute):
            kind = ColumnAssociationProxyInstance
        else:
            kind = AssociationProxyInstance
        return kind(parent, owning_class, target_class, parent.value_attr, prop)

    # --- what the proxy links --------------------------------------------------------------

    @property
    def info(self) -> dict[Any, Any]:
        return self.parent.info

    @property
    def local_attr(self) -> Any:
        """The relationship on the owning class (``User.kw_assocs``)."""
        return getattr(self.owning_class, self.target_collection)

    @property
    def remote_attr(self) -> Any:
        """The proxied attribute on the related class (``UserKeyword.keyword``)."""
        try:
            return getattr(self.target_class, self.value_attr)
        except AttributeError:
            raise exc.InvalidRequestError(
                f"{self._describe()}: {self.target_class.__name__} has no class attribute "
                f"{self.value_attr!r} to build SQL from"
            ) from None

    @property
    def attr(self) -> tuple[Any, Any]:
        """``(local_attr, remote_attr)``: the two attributes to join or filter through."""
        return (self.local_attr, self.remote_attr)

    def _describe(self) -> str:
        return f"{self.owning_class.__name__}.{self.parent.key} (proxy of {self._relationship})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()}, attr={self.value_attr!r})"

    # --- instance access -------------------------------------------------------------------

    def _default_getset(self) -> tuple[Getter, Setter]:
        attr = self.value_attr

        def getter(target: Any) -> Any:
            return None if target is None else getattr(target, attr)

        if self.collection_class is dict:

            def keyed_setter(target: Any, key: Any, value: Any) -> None:
                setattr(target, attr, value)

            return getter, keyed_setter

        def setter(target: Any, value: Any) -> None:
            setattr(target, attr, value)

        return getter, setter

    @property
    def creator(self) -> Callable[..., Any]:
        """What makes a related object from a new value (``creator(key, value)`` for dicts)."""
        if self._creator is None:
            self._creator = self._default_creator()
        return self._creator

    def _default_creator(self) -> Callable[..., Any]:
        target = self.target_class
        try:
            params = py_inspect.signature(target).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        any_keyword = any(p.kind is p.VAR_KEYWORD for p in params.values())
        named = {
            name
            for name, p in params.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }

        def takes(name: str) -> bool:
            return any_keyword or name in named

        attr = self.value_attr
        if self.collection_class is dict:
            key_attr: str | None = getattr(
                self._relationship.collection_class, "_sa_key_attr", None
            )
            if key_attr is not None and takes(key_attr) and takes(attr):
                return lambda key, value: target(**{key_attr: key, attr: value})
            return target
        if takes(attr):
            return lambda value: target(**{attr: value})
        return target

    def get(self, obj: Any) -> Any:
        """The proxied value(s) of ``obj``: a value, or a view of the collection."""
        if self.scalar:
            return self._getter(getattr(obj, self.target_collection))
        # Load the collection now, so that ``await obj.awaitable_attrs.<proxy>`` loads it.
        getattr(obj, self.target_collection)
        return self._view(obj)

    def _view(self, obj: Any) -> Any:
        lazy = _LazyCollection(obj, self.target_collection)
        factory = self.parent.proxy_factory
        if factory is not None:
            return factory(lazy, self.creator, self.value_attr, self)
        kind = self.collection_class
        view = (
            _AssociationDict
            if kind is dict
            else _AssociationSet
            if kind is set
            else _AssociationList
        )
        return view(lazy, self.creator, self._getter, self._setter, self)

    def set(self, obj: Any, values: Any) -> None:
        """Assign ``values`` through the proxy: the value of the related object (creating it
        if there is none), or the whole collection's values."""
        if self.scalar:
            self._set_scalar(obj, values)
            return
        if (
            isinstance(values, _AssociationCollection)
            and values.parent is self
            and values.lazy_collection.parent is obj
        ):
            return  # ``obj.proxy += [...]`` assigns the view it changed in place
        if isinstance(values, _AssociationCollection):
            values = values.copy()
        elif self.parent.proxy_factory is not None:
            values = dict(values) if self.collection_class is dict else list(values)
        view = self._view(obj)
        if self.parent.proxy_bulk_set is not None:
            self.parent.proxy_bulk_set(view, values)
        elif isinstance(view, _AssociationCollection):
            view._replace(values)
        else:
            raise exc.InvalidRequestError(
                f"{self._describe()} has a proxy_factory but no proxy_bulk_set, so it does not "
                "know how to assign a whole collection; pass proxy_bulk_set=(proxy, values)"
            )

    def _set_scalar(self, obj: Any, value: Any) -> None:
        target = getattr(obj, self.target_collection)
        if target is None:
            if value is None and not self.parent.create_on_none_assignment:
                return
            setattr(obj, self.target_collection, self.creator(value))
            return
        self._setter(target, value)
        if value is None and self.parent.cascade_scalar_deletes:
            setattr(obj, self.target_collection, None)

    def delete(self, obj: Any) -> None:
        """``del obj.proxy``: unset the related object's attribute (for one related object)
        and empty the relationship."""
        if self.scalar:
            target = getattr(obj, self.target_collection)
            if target is not None:
                delattr(target, self.value_attr)
        delattr(obj, self.target_collection)

    # --- SQL -------------------------------------------------------------------------------

    def _local_exists(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS a related object (of the relationship) matching ``criterion``."""
        local = self.local_attr
        if self.scalar:
            return local.has(criterion, **kwargs)  # type: ignore[no-any-return]
        return local.any(criterion, **kwargs)  # type: ignore[no-any-return]

    def _local_empty(self) -> ColumnElement:
        """No related object at all (a NULL reference, or an empty collection)."""
        from athanor.orm.relationships import MANYTOONE

        if self._relationship.direction == MANYTOONE:
            return self.local_attr == None  # type: ignore[no-any-return]  # noqa: E711
        return not_(self._local_exists())

    def _remote_is_collection(self) -> bool:
        prop = getattr(self.remote_attr, "prop", None)
        return bool(getattr(prop, "is_relationship", False) and prop.uselist)  # type: ignore[union-attr]

    def _criterion_exists(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS a related object whose proxied end matches ``criterion``/``kwargs``."""
        remote = self.remote_attr
        if isinstance(remote, AssociationProxyInstance):
            return self._local_exists(remote._criterion_exists(criterion, **kwargs))
        if isinstance(remote, QueryableAttribute) and getattr(
            remote.prop, "is_relationship", False
        ):
            inner = (
                remote.any(criterion, **kwargs)
                if self._remote_is_collection()
                else remote.has(criterion, **kwargs)
            )
            return self._local_exists(inner)
        return self._local_exists(criterion, **kwargs)

    def any(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS a related object (through the relationship, and through the proxied
        relationship when it is one) matching ``criterion`` and ``attr=value`` keywords."""
        if not isinstance(self.remote_attr, AssociationProxyInstance) and (
            self.scalar and not self._remote_is_collection()
        ):
            raise exc.InvalidRequestError(
                f"any() tests a collection; {self._describe()} refers to one object, use has()"
            )
        return self._criterion_exists(criterion, **kwargs)

    def has(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS the related object matching ``criterion`` and ``attr=value`` keywords."""
        if not isinstance(self.remote_attr, AssociationProxyInstance) and (
            not self.scalar or self._remote_is_collection()
        ):
            raise exc.InvalidRequestError(
                f"has() tests a reference to one object; {self._describe()} goes through a "
                "collection, use any()"
            )
        return self._criterion_exists(criterion, **kwargs)

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        raise exc.InvalidRequestError(
            f"{self._describe()}: {self.target_class.__name__}.{self.value_attr} is neither a "
            "mapped column nor a relationship, so the proxy cannot be compared in SQL"
        )

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement:
        return self.operate(op, other, **kwargs)


class ColumnAssociationProxyInstance(AssociationProxyInstance[_T]):
    """A proxy of a column value: every SQL operator tests the related objects' column
    (``User.keywords == "x"`` is EXISTS a related row whose keyword is "x"; ``contains()``,
    like on a column, is LIKE)."""

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        # A proxied proxy's comparison is already an EXISTS of its own; it nests inside ours.
        matching = self._local_exists(self.remote_attr == other)
        if other is None:
            return or_(matching, self._local_empty())
        return matching

    __hash__ = ColumnOperators.__hash__

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        return self._local_exists(self.remote_attr.operate(op, *other, **kwargs))


class ObjectAssociationProxyInstance(AssociationProxyInstance[_T]):
    """A proxy of related objects (the proxied attribute is itself a relationship):
    ``contains(obj)``, ``== obj`` and ``!= obj`` for a single one, ``any()``/``has()``."""

    def contains(self, other: Any, **kw: Any) -> ColumnElement:
        """Whether ``other`` is among the proxied objects."""
        remote = self.remote_attr
        if isinstance(remote, AssociationProxyInstance):
            inner = remote == other if remote.scalar else remote.contains(other)
            return self._local_exists(inner)
        remote_many = self._remote_is_collection()
        if self.scalar and not remote_many:
            raise exc.InvalidRequestError(
                f"contains() tests a collection; {self._describe()} is one object, compare it "
                "with =="
            )
        return self._local_exists(remote.contains(other) if remote_many else remote == other)

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        remote = self.remote_attr
        if isinstance(remote, AssociationProxyInstance):
            return self._local_exists(remote == other)
        self._single_only("==")
        if other is None:
            return or_(self._local_exists(remote == None), self._local_empty())  # noqa: E711
        return self._local_exists(remote == other)

    def __ne__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        remote = self.remote_attr
        if isinstance(remote, AssociationProxyInstance):
            return self._local_exists(remote != other)
        self._single_only("!=")
        return self._local_exists(remote != other)

    __hash__ = ColumnOperators.__hash__

    def _single_only(self, op: str) -> None:
        if not self.scalar or self._remote_is_collection():
            raise exc.InvalidRequestError(
                f"{self._describe()} holds a collection of objects, which cannot be compared "
                f"with {op}; use contains(obj) or any(...)"
            )

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        raise exc.InvalidRequestError(
            f"{self._describe()} proxies objects ({self.target_class.__name__}."
            f"{self.value_attr} is a relationship): compare with ==, != or contains(), or "
            "filter with any()/has()"
        )


# --- the collection views ---------------------------------------------------------------------


class _AssociationCollection:
    """What the list, set and dict views share: the lazily read collection and the getter,
    setter and creator that translate between related objects and values."""

    __slots__ = ("creator", "getter", "lazy_collection", "parent", "setter")

    def __init__(
        self,
        lazy_collection: _LazyCollection,
        creator: Callable[..., Any],
        getter: Getter,
        setter: Setter,
        parent: AssociationProxyInstance[Any],
    ) -> None:
        self.lazy_collection = lazy_collection
        self.creator = creator
        self.getter = getter
        self.setter = setter
        self.parent = parent

    @property
    def col(self) -> Any:
        """The relationship's collection of related objects, as it is now."""
        return self.lazy_collection()

    def __len__(self) -> int:
        return len(self.col)

    def __bool__(self) -> bool:
        return bool(self.col)

    def copy(self) -> Any:
        raise NotImplementedError

    def _replace(self, values: Any) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return repr(self.copy())

    __hash__ = None  # type: ignore[assignment]


class _AssociationList(_AssociationCollection, MutableSequence[Any]):
    """A list of values, one per object of a list relationship."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def _values(self, members: Iterable[Any]) -> list[Any]:
        getter = self.getter
        return [getter(member) for member in members]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self._values(self.col[index])
        return self.getter(self.col[index])

    def __setitem__(self, index: Any, value: Any) -> None:
        col = self.col
        if not isinstance(index, slice):
            self.setter(col[index], value)
            return
        values = list(value)
        if index.indices(len(col))[2] == 1:
            col[index] = [self.creator(v) for v in values]
            return
        members = col[index]
        if len(members) != len(values):
            raise ValueError(
                f"attempt to assign a sequence of size {len(values)} to an extended slice of "
                f"size {len(members)}"
            )
        for member, v in zip(members, values, strict=True):
            self.setter(member, v)

    def __delitem__(self, index: Any) -> None:
        del self.col[index]

    def __iter__(self) -> Iterator[Any]:
        getter = self.getter
        for member in self.col:
            yield getter(member)

    def __contains__(self, value: object) -> bool:
        getter = self.getter
        return any(getter(member) == value for member in self.col)

    def append(self, value: Any) -> None:
        self.col.append(self.creator(value))

    def extend(self, values: Iterable[Any]) -> None:
        col = self.col
        for value in list(values):
            col.append(self.creator(value))

    def insert(self, index: int, value: Any) -> None:
        self.col.insert(index, self.creator(value))

    def remove(self, value: Any) -> None:
        getter = self.getter
        col = self.col
        for position, member in enumerate(col):
            if getter(member) == value:
                del col[position]
                return
        raise ValueError(f"{value!r} is not in the list")

    def pop(self, index: int = -1) -> Any:
        return self.getter(self.col.pop(index))

    def clear(self) -> None:
        del self.col[:]

    def count(self, value: Any) -> int:
        return sum(1 for v in self if v == value)

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        return self.copy().index(value, start, len(self) if stop is None else stop)

    def copy(self) -> list[Any]:
        return self._values(self.col)

    def _replace(self, values: Any) -> None:
        values = list(values)
        self.clear()
        self.extend(values)

    def __eq__(self, other: object) -> bool:
        return self.copy() == (list(other) if isinstance(other, _AssociationList) else other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: Any) -> bool:
        return self.copy() < list(other)

    def __le__(self, other: Any) -> bool:
        return self.copy() <= list(other)

    def __gt__(self, other: Any) -> bool:
        return self.copy() > list(other)

    def __ge__(self, other: Any) -> bool:
        return self.copy() >= list(other)

    def __add__(self, other: Iterable[Any]) -> list[Any]:
        return self.copy() + list(other)

    def __radd__(self, other: Iterable[Any]) -> list[Any]:
        return list(other) + self.copy()

    def __mul__(self, n: int) -> list[Any]:
        return self.copy() * n

    __rmul__ = __mul__

    def __iadd__(self, values: Iterable[Any]) -> _AssociationList:
        self.extend(values)
        return self

    def __imul__(self, n: int) -> _AssociationList:
        values = self.copy()
        if n <= 0:
            self.clear()
        for _ in range(n - 1):
            self.extend(values)
        return self


class _AssociationSet(_AssociationCollection, MutableSet[Any]):
    """A set of values, one per object of a set relationship."""

    __slots__ = ()

    @classmethod
    def _from_iterable(cls, values: Iterable[Any]) -> set[Any]:
        return set(values)

    def __iter__(self) -> Iterator[Any]:
        getter = self.getter
        for member in list(self.col):
            yield getter(member)

    def __contains__(self, value: object) -> bool:
        getter = self.getter
        return any(getter(member) == value for member in self.col)

    def add(self, value: Any) -> None:
        if value not in self:
            self.col.add(self.creator(value))

    def discard(self, value: Any) -> None:
        getter = self.getter
        col = self.col
        for member in list(col):
            if getter(member) == value:
                col.remove(member)

    def remove(self, value: Any) -> None:
        if value not in self:
            raise KeyError(value)
        self.discard(value)

    def pop(self) -> Any:
        col = self.col
        if not col:
            raise KeyError("pop from an empty set")
        return self.getter(col.pop())

    def clear(self) -> None:
        self.col.clear()

    def update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for value in list(other):
                self.add(value)

    def union(self, *others: Iterable[Any]) -> set[Any]:
        return self.copy().union(*others)

    def intersection(self, *others: Iterable[Any]) -> set[Any]:
        return self.copy().intersection(*others)

    def difference(self, *others: Iterable[Any]) -> set[Any]:
        return self.copy().difference(*others)

    def symmetric_difference(self, other: Iterable[Any]) -> set[Any]:
        return self.copy().symmetric_difference(other)

    def issubset(self, other: Iterable[Any]) -> bool:
        return self.copy().issubset(other)

    def issuperset(self, other: Iterable[Any]) -> bool:
        return self.copy().issuperset(other)

    def difference_update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for value in list(other):
                self.discard(value)

    def intersection_update(self, *others: Iterable[Any]) -> None:
        keep = self.copy().intersection(*others)
        for value in self.copy() - keep:
            self.discard(value)

    def symmetric_difference_update(self, other: Iterable[Any]) -> None:
        current = self.copy()
        for value in set(other):
            if value in current:
                self.discard(value)
            else:
                self.add(value)

    def copy(self) -> set[Any]:
        getter = self.getter
        return {getter(member) for member in self.col}

    def _replace(self, values: Any) -> None:
        wanted = set(values)
        current = self.copy()
        for value in current - wanted:
            self.discard(value)
        for value in wanted - current:
            self.add(value)


class _AssociationDict(_AssociationCollection, MutableMapping[Any, Any]):
    """A dict of values, keyed as the dict relationship is (``attribute_keyed_dict``)."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, key: Any) -> Any:
        return self.getter(self.col[key])

    def __setitem__(self, key: Any, value: Any) -> None:
        col = self.col
        if key in col:
            self.setter(col[key], key, value)
        else:
            col[key] = self.creator(key, value)

    def __delitem__(self, key: Any) -> None:
        del self.col[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.col))

    def __contains__(self, key: object) -> bool:
        return key in self.col

    def copy(self) -> dict[Any, Any]:
        getter = self.getter
        return {key: getter(member) for key, member in self.col.items()}

    def _replace(self, values: Any) -> None:
        wanted = dict(values)
        for key in [k for k in self.col if k not in wanted]:
            del self[key]
        for key, value in wanted.items():
            self[key] = value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _AssociationDict):
            other = other.copy()
        return self.copy() == other

    def __ne__(self, other: object) -> bool:
        return not self == other


_VIEWS: dict[type | None, type[_AssociationCollection]] = {
    list: _AssociationList,
    set: _AssociationSet,
    dict: _AssociationDict,
}

__all__ = [
    "ASSOCIATION_PROXY",
    "AssociationProxy",
    "AssociationProxyExtensionType",
    "AssociationProxyInstance",
    "ColumnAssociationProxyInstance",
    "ObjectAssociationProxyInstance",
    "association_proxy",
]
