"""Declarative mapping: ``DeclarativeBase``, ``declarative_base()``, ``registry``.

A declarative class lists its columns as ``Mapped[...]`` annotations (types and nullability
come from the annotation) or as ``Column``/``mapped_column()`` attributes; the registry builds
its ``Table`` in the registry's ``MetaData`` and maps the class.  Relationship targets named as
strings are resolved against the registry when the mappers are configured.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import inspect
import keyword
import sys
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, ForwardRef, TypeVar

from athanor import exc as sa_exc
from athanor.event import registry as event_registry
from athanor.orm import exc as orm_exc
from athanor.orm.base import (
    MAPPER_KEY,
    NO_VALUE,
    STATE_KEY,
    DynamicMapped,
    Mapped,
    WriteOnlyMapped,
    _new_state,
    class_mapper,
)
from athanor.orm.composite import CompositeProperty
from athanor.orm.decl_intercept import DeclarativeAttributeIntercept, add_attribute
from athanor.orm.interfaces import MapperProperty
from athanor.orm.mapper import Mapper, _all_registries
from athanor.orm.properties import ColumnProperty, MappedColumn
from athanor.orm.relationships import RelationshipProperty
from athanor.orm.state import InstanceState, new_state
from athanor.sql import types as sqltypes
from athanor.sql.schema import Column, MetaData, Table

_T = TypeVar("_T")

_DEFAULT_TYPES: dict[Any, Any] = {
    int: sqltypes.Integer,
    str: sqltypes.String,
    bool: sqltypes.Boolean,
    float: sqltypes.Float,
    decimal.Decimal: sqltypes.Numeric,
    datetime.datetime: sqltypes.DateTime,
    datetime.date: sqltypes.Date,
    datetime.time: sqltypes.Time,
    datetime.timedelta: sqltypes.Interval,
    bytes: sqltypes.LargeBinary,
    uuid.UUID: sqltypes.Uuid,
    dict: sqltypes.JSON,
    list: sqltypes.JSON,
}


class _Forward:
    """A name in a string annotation that is not defined yet (a class declared later)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self) -> None:
        return None

    def __or__(self, other: Any) -> Any:
        return typing.Union[self, other]  # noqa: UP007 - builds a typing object at runtime

    def __ror__(self, other: Any) -> Any:
        return typing.Union[other, self]  # noqa: UP007

    def __getitem__(self, item: Any) -> _Forward:
        return self

    def __repr__(self) -> str:
        return self.name


class _Namespace(dict[str, Any]):
    """Names a string annotation of ``cls`` may use: its module's, then typing's and builtins'.

    A class mapped in another registry stands for its name: the registry of ``cls`` looks the
    name up when configuring, so ``Mapped["User"]`` in a class declared inside a function means
    that registry's ``User``, not a module-level one of another registry."""

    def __init__(self, cls: type) -> None:
        module = sys.modules.get(cls.__module__)
        super().__init__(vars(module) if module is not None else {})
        self.update({k: v for k, v in vars(cls).items() if not k.startswith("__")})
        self[cls.__name__] = cls
        self.setdefault("Mapped", Mapped)
        self.registry = getattr(cls, "registry", None)

    def __getitem__(self, key: str) -> Any:
        found = super().__getitem__(key)
        mapper = vars(found).get(MAPPER_KEY) if isinstance(found, type) else None
        if isinstance(mapper, Mapper) and mapper.registry is not self.registry:
            return _Forward(key)
        return found

    def __missing__(self, key: str) -> Any:
        if key == "typing":
            return typing
        if key in vars(typing):
            return vars(typing)[key]
        import builtins

        if hasattr(builtins, key):
            return getattr(builtins, key)
        return _Forward(key)


def _evaluate(annotation: Any, cls: type) -> Any:
    """Evaluate a string annotation (``Mapped["Shelf | None"]`` holds one as a ForwardRef) in
    the class's module; a name not defined yet becomes a ``_Forward`` the registry resolves."""
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, _Namespace(cls))
    except Exception:
        return _Forward(annotation)


class _Annotation:
    """What a ``Mapped[...]`` annotation says: the inner type, Optional, and collection kind."""

    def __init__(
        self,
        inner: Any,
        optional: bool,
        collection: Any,
        mapped: bool,
        lazy: str | None = None,
        column: MappedColumn | None = None,
    ) -> None:
        self.inner = inner
        self.optional = optional
        self.collection = collection
        self.mapped = mapped
        self.lazy = lazy
        self.column = column
        """The mapped_column() an ``Annotated[type, mapped_column(...)]`` carries."""

    @property
    def target_name(self) -> Any:
        inner = self.inner
        if isinstance(inner, _Forward):
            return inner.name
        if isinstance(inner, ForwardRef):
            return inner.__forward_arg__
        if isinstance(inner, str):
            return inner
        return inner


_ANNOTATION_LAZY = {WriteOnlyMapped: "write_only", DynamicMapped: "dynamic"}


def _parse_annotation(annotation: Any, cls: type) -> _Annotation | None:
    annotation = _evaluate(annotation, cls)
    origin = typing.get_origin(annotation)
    mapped = False
    lazy = None
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapped):
        mapped = True
        lazy = _ANNOTATION_LAZY.get(origin)
        (annotation,) = typing.get_args(annotation)
    elif annotation is Mapped or (isinstance(annotation, type) and issubclass(annotation, Mapped)):
        return _Annotation(None, False, None, True)
    elif origin is ClassVar or annotation is ClassVar:
        return None
    annotation = _evaluate(annotation, cls)
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        annotation = members[0] if len(members) == 1 else typing.Union[tuple(members)]  # noqa: UP007
        origin = typing.get_origin(annotation)
    column = None
    if origin is typing.Annotated:
        carried = [m for m in annotation.__metadata__ if isinstance(m, MappedColumn)]
        if carried:
            column = carried[-1]
            annotation = typing.get_args(annotation)[0]
            origin = typing.get_origin(annotation)
            if origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(
                annotation
            ):
                optional = True
                (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
                origin = typing.get_origin(annotation)
    collection: Any = None
    if origin in (list, set, frozenset, dict) or annotation in (list, set):
        args = typing.get_args(annotation)
        if origin is not None and args:
            collection = origin
            annotation = args[-1]
    annotation = _evaluate(annotation, cls)
    return _Annotation(annotation, optional, collection, mapped, lazy, column)


def _type_for(ann: _Annotation, type_map: Mapping[Any, Any], where: str) -> Any:
    inner = ann.inner
    if inner in type_map:
        found = type_map[inner]
        return found() if isinstance(found, type) else found
    origin = typing.get_origin(inner)
    if origin is not None and origin in type_map:
        found = type_map[origin]
        return found() if isinstance(found, type) else found
    if origin is typing.Literal:
        return sqltypes.Enum(*typing.get_args(inner), native_enum=False)
    if isinstance(inner, type):
        if issubclass(inner, enum.Enum):
            return sqltypes.Enum(inner)
        for base in inner.__mro__[1:]:
            if base in type_map:
                found = type_map[base]
                return found() if isinstance(found, type) else found
    return None


class registry:  # noqa: N801 - SQLAlchemy's name
    """A set of mapped classes sharing a MetaData and a namespace for string class names."""

    def __init__(
        self,
        *,
        metadata: MetaData | None = None,
        class_registry: dict[str, Any] | None = None,
        type_annotation_map: Mapping[Any, Any] | None = None,
        constructor: Callable[..., None] | None = None,
    ) -> None:
        self.metadata = metadata if metadata is not None else MetaData()
        self._class_registry: dict[str, Any] = class_registry if class_registry is not None else {}
        self.type_annotation_map: dict[Any, Any] = dict(_DEFAULT_TYPES)
        if type_annotation_map:
            self.update_type_annotation_map(type_annotation_map)
        self.constructor = constructor if constructor is not None else _default_constructor
        self._mappers: list[Mapper] = []
        self._new_mappers = False
        _all_registries.add(self)

    def update_type_annotation_map(self, type_annotation_map: Mapping[Any, Any]) -> None:
        """Add Python type -> SQL type entries used for ``Mapped[...]`` annotations."""
        self.type_annotation_map.update(type_annotation_map)

    @property
    def mappers(self) -> frozenset[Mapper]:
        return frozenset(self._mappers)

    def _add_mapper(self, mapper: Mapper) -> None:
        self._mappers.append(mapper)
        cls = mapper.class_
        self._class_registry[cls.__name__] = cls
        self._class_registry[f"{cls.__module__}.{cls.__name__}"] = cls

    def configure(self, cascade: bool = False) -> None:
        """Configure every mapper now (instead of on first use)."""
        from athanor.orm.mapper import _configure_registry

        _configure_registry(self)

    def dispose(self, cascade: bool = False) -> None:
        """Unmap every class of this registry."""
        for mapper in self._mappers:
            mapper._drop_fast_init()
            for key in mapper._props:
                if key in mapper.class_.__dict__:
                    # Past the metaclass, which would unmap the attribute one at a time.
                    type.__delattr__(mapper.class_, key)
            if "__mapper__" in mapper.class_.__dict__:
                delattr(mapper.class_, "__mapper__")
        from athanor.orm.session import _ready_mappers

        for mapper in self._mappers:
            _ready_mappers.pop(mapper.class_, None)
        self._mappers.clear()
        self._class_registry.clear()
        self._new_mappers = False

    def _names_pending(self) -> bool:
        """Whether a relationship of a mapper not configured yet names a class (or table)
        this registry does not know yet, as while the classes are still being declared:
        configuring now would fail on it, so statements made meanwhile do not try."""
        namespace = _ResolveNamespace(self)
        for mapper in self._mappers:
            if mapper._configured:
                continue
            for prop in mapper._props.values():
                for name in (getattr(prop, "argument", None), getattr(prop, "secondary", None)):
                    # Only a (dotted) name: an expression such as "join(A, B, ...)" would
                    # build clauses of classes, which come back here.
                    if not isinstance(name, str) or not all(
                        part.isidentifier() for part in name.split(".")
                    ):
                        continue
                    try:
                        eval(name, namespace)
                    except NameError:
                        return True
                    except Exception:  # any other error: configuring reports it
                        continue
        return False

    def _resolve_name(self, name: str, prop: Any, what: str) -> Any:
        namespace = _ResolveNamespace(self)
        try:
            return eval(name, namespace)
        except NameError as error:
            raise sa_exc.InvalidRequestError(
                f"When configuring relationship {prop}: the {what} {name!r} names something "
                f"that is not a mapped class of this registry or a table of its MetaData "
                f"({error}); check the spelling, and that the class is imported before the "
                "mappers are used"
            ) from error

    # --- mapping -----------------------------------------------------------------------------

    def map_imperatively(self, class_: type, local_table: Any = None, **kw: Any) -> Mapper:
        """Map ``class_`` to ``local_table`` (``properties={...}`` for relationships)."""
        return Mapper(class_, local_table, registry=self, **kw)

    def mapped(self, cls: type[_T]) -> type[_T]:
        """Class decorator: map a declarative class with this registry."""
        _map_declaratively(self, cls)
        if "__init__" not in cls.__dict__:
            cls.__init__ = self.constructor  # type: ignore[method-assign]
        return cls

    def mapped_as_dataclass(self, cls: type[_T] | None = None, **kw: Any) -> Any:
        """Class decorator: make a dataclass of a declarative class and map it."""

        def decorate(klass: type[_T]) -> type[_T]:
            _apply_dataclass(klass, kw)
            _map_declaratively(self, klass)
            return klass

        return decorate if cls is None else decorate(cls)

    def generate_base(
        self,
        mapper: Any = None,
        cls: type = object,
        name: str = "Base",
        metaclass: type = type,
    ) -> Any:
        """A declarative base class using this registry (what ``declarative_base()`` returns)."""
        bases = cls if isinstance(cls, tuple) else (cls,)
        namespace: dict[str, Any] = {
            "registry": self,
            "metadata": self.metadata,
            "__init__": self.constructor,
            "__abstract__": True,
        }
        if metaclass is type:
            metaclass = DeclarativeMeta
        return metaclass(name, bases, namespace)

    def as_declarative_base(self, **kw: Any) -> Callable[[type], Any]:
        def decorate(cls: type) -> Any:
            kw["cls"] = cls
            kw["name"] = cls.__name__
            return self.generate_base(**kw)

        return decorate


class _ResolveNamespace(dict[str, Any]):
    def __init__(self, reg: registry) -> None:
        super().__init__()
        self.reg = reg

    def __missing__(self, key: str) -> Any:
        found = self.reg._class_registry.get(key)
        if found is not None:
            return found
        table = self.reg.metadata.tables.get(key)
        if table is not None:
            return table
        import athanor
        import athanor.orm

        for module in (athanor, athanor.orm):
            if hasattr(module, key):
                return getattr(module, key)
        import builtins

        if hasattr(builtins, key):
            return getattr(builtins, key)
        raise NameError(f"name {key!r} is not defined")


def _default_constructor(self: Any, **kwargs: Any) -> None:
    """Set each keyword argument as an attribute (only mapped or existing attributes).

    The ``__init__`` of declarative classes; it is made once per new object, so the common
    case (a configured mapper, column attributes nobody validates or listens to) is kept to
    plain dict stores.
    """
    cls = type(self)
    mapper = getattr(cls, "__mapper__", None)
    if mapper is None:
        if cls in (getattr(cls, "_sa_deferred_mappings", None) or ()):
            raise sa_exc.InvalidRequestError(
                f"{cls.__name__} is not mapped yet: its table is read from the database when "
                "prepare() is called; call prepare() on its base first (e.g. "
                "Base.prepare(autoload_with=engine) or Reflected.prepare(engine))"
            )
        for key, value in kwargs.items():
            if not hasattr(cls, key):
                raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
            setattr(self, key, value)
        return
    registry = mapper.registry
    if registry is not None and registry._new_mappers:
        mapper._check_configure()
    d = self.__dict__
    cached = mapper._plain_init
    if cached[0] != event_registry.generation:
        cached = mapper._refresh_plain_init()
        if cached[1] is not None and mapper.class_ is cls:
            _install_fast_init(mapper, cached[1])
    keys = cached[1]
    if keys is not None and keys.issuperset(kwargs) and STATE_KEY not in d:
        # A new object given plain column values: they are stored as they are, and the
        # object's state is made when the ORM first needs it (``instance_state``), which
        # counts them as set since the object was made.
        d.update(kwargs)
        return
    listeners = mapper.dispatch.init
    if listeners:
        for fn in listeners:
            fn(self, (), kwargs)
    state = d.get(STATE_KEY)
    if state is None:
        # A new object has no state yet: make it without instance_state()'s lookups.
        state = d[STATE_KEY] = new_state(
            self, mapper if mapper.class_ is cls else mapper._for_class(cls)
        )
    failure_listeners = mapper.dispatch.init_failure
    if not failure_listeners:
        _set_keywords(self, cls, mapper, state, kwargs)
        return
    try:
        _set_keywords(self, cls, mapper, state, kwargs)
    except BaseException:
        for fn in failure_listeners:
            fn(self, (), kwargs)
        raise


def _set_keywords(
    self: Any, cls: type, mapper: Mapper, state: InstanceState, kwargs: dict[str, Any]
) -> None:
    """The declarative constructor's work for a new object with a state: each keyword
    argument set as an attribute; an unknown name raises TypeError."""
    d = self.__dict__
    committed = state._own_committed()
    plain = mapper._plain_scalar_impls
    stored = False
    for key, value in kwargs.items():
        impl = plain.get(key)
        if impl is not None and impl.validator is None and not impl.dispatch.set:
            # A column attribute nobody validates or listens to: the same bookkeeping as
            # ScalarAttributeImpl.set for a new object, without the call.
            if key not in committed:
                committed[key] = d.get(key, NO_VALUE)
            d[key] = value
            stored = True
            continue
        if not hasattr(cls, key):
            raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
        setattr(self, key, value)
    if stored and not state.modified:
        state._modified_event(self)


_FAST_INIT_NAMES = frozenset(
    ("self", "kw", "d", "p", "_ABSENT", "_cls", "_reg", "_type", "_slow", "_other")
)
"""The names the generated constructor's code uses: attributes of these names are passed to
it through ``**kw``, like attributes that are not identifiers."""


def _install_fast_init(mapper: Mapper, plain: frozenset[str]) -> None:
    """Give ``mapper``'s class a constructor made for its column attributes, when every one of
    them may be stored as it is (``plain``: nobody validates or listens to them, nobody
    listens to ``init``) and the class would otherwise run :func:`_default_constructor`.

    Keyword arguments bound to parameters of their own cost a call less than a ``**kwargs``
    dict; other keywords (relationships, synonyms, hybrids) are set after them by
    :func:`_set_other_keywords`; any other case (a subclass, an object with values already,
    mappers to configure) goes to :func:`_default_constructor`.  The mapper takes the
    constructor back when listeners or its attributes change (``Mapper._drop_fast_init``),
    and when a subclass is mapped (which would inherit it).
    """
    cls = mapper.class_
    registry = mapper.registry
    if (
        registry is None
        or set(mapper._plain_scalar_impls) != plain
        or cls.__dict__.get("__init__", _default_constructor) is not _default_constructor
        or getattr(cls, "__init__", None) is not _default_constructor
        or any(_is_mapped_class(sub) for sub in _all_subclasses(cls))
    ):
        return
    # Only identifiers become parameter names (and only those the code below leaves alone).
    names = [
        key
        for key in mapper._plain_scalar_impls
        if key.isidentifier() and not keyword.iskeyword(key) and key not in _FAST_INIT_NAMES
    ]
    parameters = "".join(f"{key}=_ABSENT, " for key in names)
    given = [f"    if {key} is not _ABSENT:" for key in names]
    lines = [f"def __init__(self, /, *, {parameters}**kw):", "    d = self.__dict__"]
    lines.append("    if d or _reg._new_mappers or _type(self) is not _cls:")
    lines.append("        p = {}")
    for test, key in zip(given, names, strict=True):
        lines += ["    " + test, f"            p[{key!r}] = {key}"]
    lines += ["        p.update(kw)", "        return _slow(self, **p)"]
    for test, key in zip(given, names, strict=True):
        lines += [test, f"        d[{key!r}] = {key}"]
    lines += ["    if kw:", "        _other(self, kw)"]
    namespace: dict[str, Any] = {
        "_ABSENT": object(),
        "_cls": cls,
        "_reg": registry,
        "_type": type,
        "_slow": _default_constructor,
        "_other": _set_other_keywords,
    }
    exec("\n".join(lines), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = _default_constructor.__module__
    init.__doc__ = _default_constructor.__doc__
    init.__signature__ = inspect.signature(_default_constructor)
    mapper._set_fast_init(init)


def _ordered_names(cls: type, annotations: dict[str, Any]) -> list[str]:
    """The names ``cls`` declares, in the order SQLAlchemy maps them: the class dict and the
    annotations are each in body order; walk one until a name both hold, then go on in the
    other (which lists that name in its place), and end with what the other has left."""
    assigned = [k for k in vars(cls) if not (k.startswith("__") and k.endswith("__"))]
    shared = set(assigned).intersection(annotations)
    walks = [iter(assigned), iter(annotations)]
    ordered: list[str] = []
    turn = 0
    while True:
        for name in walks[turn]:
            if name in shared:
                shared.discard(name)
                turn = 1 - turn
                break
            ordered.append(name)
        else:
            ordered.extend(walks[1 - turn])
            return ordered


def _is_mapped_class(cls: type) -> bool:
    return "__mapper__" in cls.__dict__


def _tablename(cls: type, parent: type | None) -> str | None:
    """The table name of ``cls``: its own ``__tablename__``; for a subclass of a mapped class
    also a ``@declared_attr`` ``__tablename__`` of a mixin or base, called for ``cls`` (a
    plain name inherited from the parent is the parent's table: single-table inheritance)."""
    if "__tablename__" in cls.__dict__:
        value = cls.__dict__["__tablename__"]
    elif parent is None:
        value = getattr(cls, "__tablename__", None)
    else:
        value = next(
            (
                k.__dict__["__tablename__"]
                for k in cls.__mro__
                if isinstance(k.__dict__.get("__tablename__"), declared_attr)
            ),
            None,
        )
    if isinstance(value, declared_attr):
        value = value.fget(cls)
    elif callable(value):
        value = value()
    return None if value is None else str(value)


def has_inherited_table(cls: type) -> bool:
    """Whether a class ``cls`` inherits from has a mapped table (for a ``@declared_attr``
    that differs between the base of a hierarchy and its subclasses)."""
    return any(getattr(k, "__table__", None) is not None for k in cls.__mro__[1:])


def _expose_mixin_column(cls: type, name: str, column: Column, exposed: set[str]) -> None:
    """Make the class's copy of a mixin's column its attribute until the class is mapped,
    so that a ``@declared_attr`` after it can build on ``cls.<name>`` (a column_property
    adding two mixin columns); ``exposed`` collects the names, which the class's own scan
    then leaves to the mixin's mapping."""
    if name not in cls.__dict__:
        setattr(cls, name, column)
        exposed.add(name)


def _overridden(cls: type, source: type, name: str) -> bool:
    """Whether a class before ``source`` in ``cls``'s MRO (``cls`` itself, or a mixin listed
    first; not a mapped class, whose attributes are its own mapping's) declares ``name``
    too, so that its declaration is the one mapped."""
    for klass in cls.__mro__:
        if klass is source:
            return False
        if klass is not cls and _is_mapped_class(klass):
            continue
        if name in klass.__dict__ or name in inspect.get_annotations(klass):
            return True
    return False


def _mapping_sources(cls: type, parent: type | None) -> list[tuple[type, bool]]:
    """The classes whose attributes ``cls`` maps, each with whether only its
    ``@declared_attr.cascading`` attributes count: the mixins and abstract bases (not mapped,
    not a declarative base) not already mapped through the mapped ``parent``, then ``cls``
    (whose @declared_attr may build on the columns of those before it); the classes above
    ``parent`` hand down their cascading attributes only."""
    sources = []
    inherited = set(parent.__mro__) if parent is not None else set()
    for klass in reversed(cls.__mro__):
        if klass is object or klass is cls or klass.__dict__.get("_sa_declarative_base"):
            continue
        if klass.__module__ in ("athanor.orm.decl_api", "typing", "abc"):
            continue
        if klass in inherited:
            if any(getattr(v, "_cascading", False) for v in vars(klass).values()):
                sources.append((klass, True))
        elif not _is_mapped_class(klass):
            sources.append((klass, False))
    sources.append((cls, False))
    return sources


class ConcreteBase:
    """Mixin for the mapped base of a concrete-table hierarchy (subclasses mapped with
    ``concrete=True`` to full tables of their own): when mappers are configured, queries of the
    base read the UNION ALL of every class's table (``polymorphic_union()``, named ``pjoin``)
    with a discriminator column (``type``, or ``_concrete_discriminator_name``), so
    ``select(Base)`` returns instances of each class."""

    @classmethod
    def __declare_first__(cls) -> None:
        _load_through_union(cls)


class _ConfigureOnUse:
    """``select(AbstractConcreteBaseSubclass)`` before mappers are configured: configure them
    (mapping the class to its polymorphic union), then hand out the class's entity."""

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is not None:
            raise AttributeError("__clause_element__")
        if "__mapper__" not in owner.__dict__:
            for sub in _all_subclasses(owner):
                sub_mapper = sub.__dict__.get("__mapper__")
                if isinstance(sub_mapper, Mapper):
                    sub_mapper._check_configure()
                    break
        if "__mapper__" not in owner.__dict__:
            raise sa_exc.InvalidRequestError(
                f"{owner.__name__} is an AbstractConcreteBase with no mapped concrete subclass "
                "to query; map a subclass with a __tablename__ of its own"
            )
        return owner.__dict__["__clause_element__"].__get__(None, owner)


class AbstractConcreteBase(ConcreteBase):
    """Mixin for an unmapped base of concrete-table classes: its columns and annotations are
    copied to each subclass, which maps to a full table of its own.  When mappers are
    configured (first use, or ``registry.configure()``) the base itself is mapped to the UNION
    ALL of its subclasses' tables, so ``select(Base)`` returns instances of each; with
    ``strict_attrs = True`` it maps only the attributes it declares."""

    __clause_element__ = _ConfigureOnUse()

    @classmethod
    def __declare_first__(cls) -> None:
        for klass in cls.__mro__:
            if AbstractConcreteBase in klass.__bases__ and "__mapper__" not in klass.__dict__:
                _map_abstract_concrete_base(klass)
        _load_through_union(cls)


def _load_through_union(cls: type) -> None:
    """Make a mapped class with concrete subclasses load through their polymorphic union."""
    mapper = cls.__dict__.get("__mapper__")
    if not isinstance(mapper, Mapper) or not mapper._concrete_mappers:
        return
    if mapper.with_polymorphic is not None:
        return
    name = getattr(cls, "_concrete_discriminator_name", "type")
    pjoin = _concrete_union(_concrete_members(mapper), name)
    mapper._set_polymorphic_selectable(pjoin, pjoin.c[name])


def _set_other_keywords(obj: Any, kwargs: dict[str, Any]) -> None:
    """Set the keywords of a generated constructor that are not column attributes, one by one
    in the order given, as :func:`_default_constructor` does.  The object's state is made
    first (the column values stored before count as set since the object was made), as
    setting a relationship, synonym or hybrid usually needs it."""
    cls = type(obj)
    _new_state(obj)
    for key, value in kwargs.items():
        if not hasattr(cls, key):
            raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
        setattr(obj, key, value)


def _all_subclasses(cls: type) -> list[type]:
    found: list[type] = []
    subs: list[type] = type.__subclasses__(cls)
    for sub in subs:
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _concrete_members(mapper: Mapper) -> list[Mapper]:
    """``mapper`` and the concrete-table mappers below it (each one's own table)."""
    found = [mapper]
    for sub in mapper._concrete_mappers:
        found.extend(_concrete_members(sub))
    return found


def _concrete_union(members: list[Mapper], discriminator: str) -> Any:
    """The ``pjoin`` union of the tables of ``members`` (mappers with a table of their own)."""
    from athanor.orm.polymorphic import polymorphic_union

    table_map: dict[Any, Any] = {}
    for member in members:
        if isinstance(member.local_table, Table) and discriminator in member.local_table.c:
            raise sa_exc.InvalidRequestError(
                f"{member.class_.__name__}'s table {member.local_table.name!r} has a column "
                f"{discriminator!r}, the name of the concrete hierarchy's discriminator; set "
                '_concrete_discriminator_name = "..." on the base class to another name'
            )
        if not isinstance(member.local_table, Table):
            continue
        if member.polymorphic_identity is None:
            raise sa_exc.InvalidRequestError(
                f"{member.class_.__name__} is part of a concrete-table hierarchy loaded through "
                "a polymorphic union but has no polymorphic_identity; add __mapper_args__ = "
                f'{{"polymorphic_identity": "{member.class_.__name__.lower()}", '
                '"concrete": True}'
            )
        table_map[member.polymorphic_identity] = member.local_table
    return polymorphic_union(table_map, discriminator, "pjoin")


def _map_abstract_concrete_base(cls: type) -> None:
    """Map an ``AbstractConcreteBase`` class to the union of its concrete subclasses' tables
    and make it their parent."""
    tops = []
    for sub in _all_subclasses(cls):
        mapper = sub.__dict__.get("__mapper__")
        if isinstance(mapper, Mapper) and mapper.inherits is None and mapper not in tops:
            tops.append(mapper)
    if not tops:
        return
    members = [m for top in tops for m in _concrete_members(top)]
    name = getattr(cls, "_concrete_discriminator_name", "type")
    pjoin = _concrete_union(members, name)
    relationships: dict[str, Any] = {}
    for klass in cls.__mro__:
        if klass is object or klass.__dict__.get("_sa_declarative_base"):
            continue
        for key, value in vars(klass).items():
            if isinstance(value, declared_attr) and key not in relationships:
                made = value.fget(cls)
                if isinstance(made, RelationshipProperty):
                    relationships[key] = made
    include = None
    primary_key = [pjoin.c[c.name] for c in tops[0].primary_key]
    if getattr(cls, "strict_attrs", False):
        # The attributes it declares, and the primary key every mapper needs.
        include = {c.key for c in primary_key}
        for klass in cls.__mro__:
            if _is_mapped_class(klass) or klass.__dict__.get("_sa_declarative_base"):
                continue
            include |= set(inspect.get_annotations(klass))
            include |= {k for k, v in vars(klass).items() if isinstance(v, MappedColumn | Column)}
    base = Mapper(
        cls,
        pjoin,
        registry=tops[0].registry,
        primary_key=primary_key,
        with_polymorphic=("*", pjoin),
        polymorphic_on=pjoin.c[name],
        exclude_properties=[name],
        include_properties=include,
        properties=relationships,
    )
    for member in members:
        base.polymorphic_map.update(member.polymorphic_map)
    for member in members:
        member.polymorphic_map = base.polymorphic_map
    for top in tops:
        top.inherits = base
        top.concrete = True
        base._concrete_mappers.append(top)


def _map_declaratively(reg: registry, cls: type) -> Mapper | None:
    if cls.__dict__.get("__abstract__", False) or AbstractConcreteBase in cls.__bases__:
        return None
    parent = next((b for b in cls.__mro__[1:] if _is_mapped_class(b)), None)
    mapper_args = getattr(cls, "__mapper_args__", None) or {}
    if callable(mapper_args):
        mapper_args = mapper_args()
    mapper_args = dict(mapper_args)
    if parent is not None and "__mapper_args__" not in cls.__dict__:
        inherited_args = getattr(parent, "__mapper_args__", None)
        if not callable(inherited_args) and inherited_args is getattr(cls, "__mapper_args__", None):
            # Python inheritance handed down the parent's own arguments, not this class's.
            mapper_args = {}
    table: Table | None = cls.__dict__.get("__table__")
    tablename = _tablename(cls, parent)
    single = parent is not None and table is None and tablename is None
    if table is None and tablename is None and not single:
        raise sa_exc.InvalidRequestError(
            f"Class {cls.__name__!r} does not have a __table__ or __tablename__ specified; add "
            f'__tablename__ = "{cls.__name__.lower()}s"'
        )
    columns: list[tuple[int, tuple[int, int], Column]] = []
    """Each column with its place in the table: by ``sort_order``, then ``cls``'s own before
    those of its mixins (in MRO order), then in declaration order."""
    exposed: set[str] = set()
    reusing: dict[int, str] = {}
    """By ``id()``, the columns given ``use_existing_column=True`` and their attribute names."""
    properties: dict[str, Any] = {}
    type_map = reg.type_annotation_map
    for source, cascading_only in _mapping_sources(cls, parent):
        annotations = dict(inspect.get_annotations(source))
        is_mixin = source is not cls
        rank = cls.__mro__.index(source)
        names = _ordered_names(source, annotations)
        if is_mixin:
            # A mixin's @declared_attr columns come after its plain ones.
            names.sort(key=lambda n: hasattr(source.__dict__.get(n), "__sa_declared_attr__"))
        for name in names:
            if _overridden(cls, source, name) if is_mixin else name in exposed:
                continue
            value = source.__dict__.get(name, NO_VALUE)
            if isinstance(value, classmethod | staticmethod) or name.startswith("__"):
                continue
            if cascading_only and (not getattr(value, "_cascading", False) or name in cls.__dict__):
                continue
            declared = hasattr(value, "__sa_declared_attr__")
            annotation = annotations.get(name)
            if declared:
                if annotation is None:
                    # ``def id(cls) -> Mapped[int]``: the function's return annotation types it.
                    annotation = inspect.get_annotations(value.fget).get("return")
                value = value.fget(cls)
            ann = _parse_annotation(annotation, cls) if annotation is not None else None
            if value is NO_VALUE:
                if ann is None or not ann.mapped:
                    continue
                value = MappedColumn()
            if ann is not None and ann.column is not None and isinstance(value, MappedColumn):
                value = value._over(ann.column)
            if isinstance(value, Column):
                value = value._copy() if is_mixin else value
                if not value.name:
                    value.name = value.key = name
                columns.append((0, (rank, len(columns)), value))
                properties[name] = ColumnProperty(value)
                if is_mixin:
                    _expose_mixin_column(cls, name, value, exposed)
            elif isinstance(value, MappedColumn):
                mc = value._copy() if is_mixin else value
                col = mc.column
                if not col.name:
                    col.name = col.key = name
                if ann is not None and ann.inner is not None and not mc.explicit_type:
                    type_ = _type_for(ann, type_map, f"{cls.__name__}.{name}")
                    if type_ is not None:
                        col.type = type_
                    elif not col.foreign_keys:
                        raise orm_exc.MappedAnnotationError(
                            f"Could not find a SQL type for the annotation {annotation!r} "
                            f"of {cls.__name__}.{name}; pass a type to mapped_column() or add it "
                            "to the registry's type_annotation_map"
                        )
                elif ann is None and col.type._isnull and not col.foreign_keys:
                    raise orm_exc.MappedAnnotationError(
                        f"{cls.__name__}.{name} = mapped_column() has no type; annotate it as "
                        "Mapped[<type>] or pass a type to mapped_column()"
                    )
                if mc.user_nullable is NO_VALUE and not col.primary_key and ann is not None:
                    # A subclass column in a single-table hierarchy is NULL in other rows.
                    col.nullable = ann.optional or single
                columns.append((mc.sort_order, (rank, len(columns)), col))
                if not col._omit_from_statements:  # an insert sentinel is left unmapped
                    properties[name] = mc.to_property()
                if is_mixin:
                    _expose_mixin_column(cls, name, col, exposed)
                if mc.use_existing_column:
                    reusing[id(col)] = name
            elif isinstance(value, RelationshipProperty):
                if is_mixin and not declared:
                    # A mixin's relationship is made per class by a @declared_attr only.
                    continue
                if ann is not None and ann.lazy is not None and value.lazy == "select":
                    value.lazy = ann.lazy
                if ann is not None and ann.inner is not None:
                    if value.argument is None:
                        if typing.get_origin(ann.inner) in (typing.Union, types.UnionType):
                            raise sa_exc.ArgumentError(
                                f"relationship {cls.__name__}.{name} is annotated with "
                                f"{annotation!r}, a union of several classes; a relationship "
                                'targets one mapped class: annotate Mapped["Other"] or '
                                'Mapped["Other | None"], or pass relationship("Other")'
                            )
                        value.argument = ann.target_name
                    if ann.collection is not None:
                        value._annotation_uselist = True
                        value._annotation_collection = ann.collection
                        if value.uselist is None:
                            value.uselist = True
                    elif value.uselist is None and ann.mapped:
                        value._annotation_uselist = False
                if value.argument is None:
                    raise sa_exc.ArgumentError(
                        f"relationship {cls.__name__}.{name} has no target class; pass it "
                        f'(relationship("Other")) or annotate Mapped["Other"]'
                    )
                properties[name] = value
            elif isinstance(value, ColumnProperty):
                for element in value.columns:
                    if isinstance(element, Column) and element.table is None:
                        if not element.name:
                            element.name = element.key = name
                        columns.append((0, (rank, len(columns)), element))
                properties[name] = value
            elif isinstance(value, CompositeProperty):
                annotated = ann.inner if ann is not None else None
                for mc, hint in value._declare(cls, name, annotated):
                    col = mc.column
                    field = None if hint is None else _parse_annotation(hint, cls)
                    if field is not None and not mc.explicit_type:
                        found = _type_for(field, type_map, f"{cls.__name__}.{name}")
                        col.type = col.type if found is None else found
                    if col.type._isnull and not col.foreign_keys:
                        raise orm_exc.MappedAnnotationError(
                            f"Could not find a SQL type for column {col.name!r} of composite "
                            f"{cls.__name__}.{name}; pass a type to its mapped_column() or "
                            "annotate the composite class's field"
                        )
                    if mc.user_nullable is NO_VALUE and not col.primary_key and field:
                        col.nullable = field.optional or single
                    columns.append((mc.sort_order, (rank, len(columns)), col))
                    properties[col.name] = mc.to_property()
                properties[name] = value
            elif isinstance(value, MapperProperty):
                properties[name] = value
    if single:
        assert parent is not None
        shared = parent.__table__  # type: ignore[attr-defined]
        for _, _, col in sorted(columns, key=lambda item: (item[0], item[1])):
            if col.key in shared.c and shared.c[col.key] is not col:
                key = str(col.key)
                if id(col) in reusing:
                    # mapped_column(use_existing_column=True): map the column already there.
                    properties[reusing[id(col)]].columns = [shared.c[key]]
                    continue
                raise sa_exc.ArgumentError(
                    f"Column {cls.__name__}.{col.key} would replace the column {col.key!r} "
                    f"already in the table {shared.name!r} shared by {parent.__name__}'s "
                    "single-table hierarchy; give it another name, or map that same column "
                    "with mapped_column(use_existing_column=True)"
                )
            if col.table is None:
                shared.append_column(col)
    elif table is None:
        assert tablename is not None
        table_args = getattr(cls, "__table_args__", None)
        if callable(table_args) and not isinstance(table_args, tuple | dict):
            table_args = table_args()
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if isinstance(table_args, dict):
            kwargs = dict(table_args)
        elif isinstance(table_args, tuple):
            if table_args and isinstance(table_args[-1], dict):
                kwargs = dict(table_args[-1])
                args = list(table_args[:-1])
            else:
                args = list(table_args)
        ordered = [c for _, _, c in sorted(columns, key=lambda item: (item[0], item[1]))]
        table = Table(tablename, reg.metadata, *ordered, *args, **kwargs)
    for key in ("version_id_col", "primary_key", "polymorphic_on"):
        value = mapper_args.get(key)
        if value is not None:
            mapper_args[key] = _column_of(value, properties)
    if parent is not None:
        mapper_args.setdefault("inherits", parent)
        if single:
            table = parent.__table__  # type: ignore[attr-defined]
    cls.__table__ = table  # type: ignore[attr-defined]
    deferred = getattr(cls, "_sa_deferred_mappings", None)
    if deferred is not None:
        deferred[cls] = functools.partial(
            Mapper, cls, table, properties=properties, registry=reg, **mapper_args
        )
        return None
    return Mapper(cls, table, properties=properties, registry=reg, **mapper_args)


def _column_of(value: Any, properties: dict[str, Any]) -> Any:
    if isinstance(value, list | tuple):
        return [_column_of(v, properties) for v in value]
    if isinstance(value, MappedColumn):
        return value.column
    if isinstance(value, ColumnProperty):
        return value.columns[0]
    if isinstance(value, str) and value in properties:
        prop = properties[value]
        return prop.columns[0] if isinstance(prop, ColumnProperty) else prop
    return value


class declared_attr:  # noqa: N801 - SQLAlchemy's name
    """Mark a mixin method as producing a mapped attribute per class (``@declared_attr``)."""

    __sa_declared_attr__ = True

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fget = fn
        self.__doc__ = fn.__doc__

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self.fget(owner)

    _cascading = False
    """Whether the attribute is made anew for every mapped subclass of a hierarchy (not only
    for the first mapped class that has the mixin)."""

    @classmethod
    def directive(cls, fn: Callable[[Any], Any]) -> declared_attr:
        """A declarative directive such as ``__tablename__``, ``__table_args__`` or
        ``__mapper_args__`` computed per class (for a subclass of a mapped class too)."""
        return cls(fn)

    @classmethod
    def cascading(cls, fn: Callable[[Any], Any]) -> declared_attr:
        """A column or property made anew for every mapped class of an inheritance hierarchy
        (e.g. a subclass's primary key that is a foreign key to its parent's table)."""
        made = cls(fn)
        made._cascading = True
        return made


class DeclarativeMeta(DeclarativeAttributeIntercept):
    """The metaclass of ``declarative_base()`` classes: maps each subclass when it is created."""

    def __init__(
        cls,  # noqa: N805 - a metaclass method receives the class
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        **kw: Any,
    ) -> None:
        super().__init__(name, bases, namespace, **kw)
        reg = cls.__dict__.get("registry")
        if isinstance(reg, registry) and "__abstract__" in namespace:
            cls._sa_declarative_base = True
            return
        reg = getattr(cls, "registry", None)
        if isinstance(reg, registry):
            _map_declaratively(reg, cls)


def declarative_base(
    *,
    metadata: MetaData | None = None,
    mapper: Any = None,
    cls: Any = object,
    name: str = "Base",
    class_registry: dict[str, Any] | None = None,
    type_annotation_map: Mapping[Any, Any] | None = None,
    constructor: Callable[..., None] | None = None,
    metaclass: type = DeclarativeMeta,
) -> Any:
    """A base class for declarative models (the pre-2.0 spelling of ``DeclarativeBase``)."""
    reg = registry(
        metadata=metadata,
        class_registry=class_registry,
        type_annotation_map=type_annotation_map,
        constructor=constructor,
    )
    return reg.generate_base(mapper=mapper, cls=cls, name=name, metaclass=metaclass)


def as_declarative(**kw: Any) -> Callable[[type], Any]:
    """Decorate a class to make it a declarative base (with ``declarative_base()``'s
    keywords ``metadata``, ``class_registry``, ``type_annotation_map``, ``constructor``)."""
    names = ("metadata", "class_registry", "type_annotation_map", "constructor")
    reg_kw = {k: kw.pop(k) for k in names if k in kw}
    return registry(**reg_kw).as_declarative_base(**kw)


def mapped_as_dataclass(registry: registry, cls: type[_T] | None = None, /, **kw: Any) -> Any:
    """Map ``cls`` with ``registry`` as a dataclass (``registry.mapped_as_dataclass``), as a
    decorator with or without dataclass keywords."""
    return registry.mapped_as_dataclass(cls, **kw)


def declarative_mixin(cls: type[_T]) -> type[_T]:
    """Mark a class as a declarative mixin (for type checkers; the class is unchanged)."""
    return cls


def add_mapped_attribute(target: type, key: str, attr: Any) -> None:
    """Map ``attr`` (a column, ``mapped_column()``, ``relationship()`` ...) as attribute
    ``key`` of the mapped class ``target`` after the class was made."""
    add_attribute(class_mapper(target), key, attr)


class _DeclarativeRoot:
    """What DeclarativeBase and DeclarativeBaseNoMeta share."""

    registry: ClassVar[registry]
    metadata: ClassVar[MetaData]
    __mapper__: ClassVar[Mapper]
    __table__: ClassVar[Any]

    def __init_subclass__(cls, **kw: Any) -> None:
        if not cls.__dict__.get("_sa_root"):
            if any(b.__dict__.get("_sa_root") for b in cls.__bases__):
                _setup_base(cls)
            elif not cls.__dict__.get("_sa_declarative_base"):
                _map_declaratively(cls.registry, cls)
        super().__init_subclass__(**kw)

    __init__ = _default_constructor


class DeclarativeBase(_DeclarativeRoot, metaclass=DeclarativeAttributeIntercept):
    """Subclass this once to make the base of your models (``class Base(DeclarativeBase)``).

    The base gets a ``registry`` and ``metadata`` (override either, or ``type_annotation_map``,
    as class attributes); every subclass with a ``__tablename__`` or ``__table__`` is mapped.
    Column and relationship attributes assigned to a mapped class later are mapped too.
    """

    _sa_root = True


class DeclarativeBaseNoMeta(_DeclarativeRoot):
    """:class:`DeclarativeBase` without a metaclass: attributes assigned to a mapped class
    after it was created stay plain class attributes."""

    _sa_root = True


def _setup_base(cls: type) -> None:
    reg = cls.__dict__.get("registry")
    if not isinstance(reg, registry):
        reg = registry(
            metadata=cls.__dict__.get("metadata"),
            type_annotation_map=cls.__dict__.get("type_annotation_map"),
        )
        cls.registry = reg  # type: ignore[attr-defined]
    elif cls.__dict__.get("type_annotation_map"):
        reg.update_type_annotation_map(cls.__dict__["type_annotation_map"])
    cls.metadata = reg.metadata  # type: ignore[attr-defined]
    cls._sa_declarative_base = True  # type: ignore[attr-defined]


class MappedAsDataclass:
    """Mixin: make each mapped class a dataclass (``__init__``, ``__repr__``, ``__eq__``)."""

    def __init_subclass__(cls, **kw: Any) -> None:
        options: dict[str, Any] = {
            k: kw.pop(k)
            for k in (
                "init",
                "repr",
                "eq",
                "order",
                "unsafe_hash",
                "match_args",
                "kw_only",
                "dataclass_callable",
            )
            if k in kw
        }
        # Options given to a base class (``class Base(MappedAsDataclass, DeclarativeBase,
        # kw_only=True)``) hold for its subclasses unless they give their own.
        if options:
            options = {**getattr(cls, "_sa_dataclass_options", {}), **options}
            cls._sa_dataclass_options = options  # type: ignore[attr-defined]
        else:
            options = dict(getattr(cls, "_sa_dataclass_options", {}))
        declares_base = any(b.__dict__.get("_sa_root") for b in cls.__bases__)
        if not declares_base and not cls.__dict__.get("__abstract__", False):
            _apply_dataclass(cls, options)
        super().__init_subclass__(**kw)


def _apply_dataclass(cls: type, options: dict[str, Any]) -> None:
    options = dict(options)
    annotations = inspect.get_annotations(cls)
    originals: dict[str, Any] = {}
    # What another dataclass provider (pydantic's) reads: the types inside Mapped[...].
    plain_types: dict[str, Any] = {}
    for name, annotation in list(annotations.items()):
        ann = _parse_annotation(annotation, cls)
        if ann is None or not ann.mapped:
            continue
        value = cls.__dict__.get(name, NO_VALUE)
        field_kw: dict[str, Any] = {}
        source: Any = value
        if isinstance(value, MappedColumn):
            if value.dataclass_init is not NO_VALUE:
                field_kw["init"] = value.dataclass_init
            if value.default is not NO_VALUE:
                field_kw["default"] = value.default
            elif value.default_factory is not None:
                field_kw["default_factory"] = value.default_factory
            for opt, attr in (
                ("repr", "dataclass_repr"),
                ("compare", "dataclass_compare"),
                ("kw_only", "dataclass_kw_only"),
            ):
                if getattr(value, attr) is not NO_VALUE:
                    field_kw[opt] = getattr(value, attr)
        elif isinstance(value, RelationshipProperty):
            dc = getattr(value, "_dataclass_kw", {})
            field_kw.update(dc)
            if (
                "default" not in field_kw
                and "default_factory" not in field_kw
                and field_kw.get("init", True)
            ):
                if ann.collection is not None:
                    field_kw["default_factory"] = ann.collection
                else:
                    field_kw["default"] = None
        elif value is not NO_VALUE and not isinstance(value, MapperProperty | Column):
            field_kw["default"] = value
        if (
            field_kw.get("init", True) is False
            and "default" not in field_kw
            and "default_factory" not in field_kw
        ):
            field_kw["default"] = None
        originals[name] = source
        setattr(cls, name, dataclasses.field(**field_kw))
        plain_types[name] = (
            Any
            if isinstance(value, RelationshipProperty)
            or ann.inner is None
            or isinstance(ann.inner, _Forward)
            else ann.inner | None
            if ann.optional
            else ann.inner
        )
    callable_ = options.pop("dataclass_callable", dataclasses.dataclass)
    if callable_ is dataclasses.dataclass:
        callable_(cls, **options)
    else:
        own = dict(annotations)
        cls.__annotations__ = {**own, **plain_types}
        try:
            callable_(cls, **options)
        finally:
            cls.__annotations__ = own
    for name, source in originals.items():
        if source is NO_VALUE:
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            setattr(cls, name, source)
