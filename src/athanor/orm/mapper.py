"""The Mapper: how one class maps to one table, and the configuration of all mappers.

A mapper owns the mapped properties of its class, the class-level descriptors, the identity
key recipe (``(class, primary key tuple, None)``) and the *entity* clause that ``select(User)``
holds; it also caches what loading and flushing need (column keys in load order, primary-key
attribute keys, column -> attribute maps) so that per-row work does no lookups.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor import inspection
from athanor.event.registry import (
    EventTarget,
    Listener,
    add_listener,
    has_listener,
    propagators,
    remove_listener,
)
from athanor.orm import exc as orm_exc
from athanor.orm.attributes import ScalarAttributeImpl
from athanor.orm.base import MAPPER_KEY, STATE_KEY, instance_state
from athanor.orm.events import MAPPER_EVENTS
from athanor.orm.interfaces import MapperProperty
from athanor.orm.properties import ColumnProperty, SynonymProperty
from athanor.orm.relationships import RelationshipProperty
from athanor.sql.elements import ColumnElement, KeyContext, Label
from athanor.sql.plugin import CompilePlugin, Translation
from athanor.sql.schema import Column
from athanor.sql.selectable import ColumnCollection, FromClause

if TYPE_CHECKING:
    from athanor.orm.decl_api import registry as Registry  # noqa: N812
    from athanor.orm.state import IdentityKey

_configure_lock = threading.RLock()
_all_registries: weakref.WeakSet[Registry] = weakref.WeakSet()


class _State:
    new_mappers = False


class _OrmCompilePlugin(CompilePlugin):
    """Compiles ``select(User, ...)``: entity columns, column options and joined eager loads."""

    def translate(self, statement: Any, dialect: Any) -> Translation:
        from athanor.orm.loading import plan_for

        plan = plan_for(statement)
        return Translation(plan.executed(statement), plan)


class EntityClause(FromClause):
    """A mapped class inside a statement: renders as its table, keeps the class for loading.

    Its ``c`` collection holds the columns loaded for the class keyed by attribute name, so
    ``select(User)`` selects them and ``filter_by(name=...)`` finds them.
    """

    __visit_name__ = "table"
    _stable_identity = True
    named_with_column = True
    _compile_plugin = _OrmCompilePlugin()

    def __init__(self, mapper: Mapper) -> None:
        self.mapper = mapper
        self.table = mapper.local_table
        self.name = self.table.name
        self.schema = getattr(self.table, "schema", None)

    @property
    def fullname(self) -> str:
        return str(self.table.fullname)

    @property
    def _dml_table(self) -> Any:
        return self.table

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for key, col in self.mapper._load_columns:
            cols.add(col, key)
        return cols

    @property
    def _hide_froms(self) -> list[FromClause]:
        return [self.table]

    def _ck(self, ctx: KeyContext) -> Hashable:
        return self

    @property
    def entity_namespace(self) -> Any:
        return self.mapper.class_

    def __repr__(self) -> str:
        return f"<entity {self.mapper.class_.__name__}>"


class _EntityHook:
    """``Class.__clause_element__()`` for select()/join(); absent on instances."""

    def __get__(self, instance: Any, owner: type) -> Callable[[], EntityClause]:
        if instance is not None:
            raise AttributeError("__clause_element__")
        mapper = owner.__dict__.get(MAPPER_KEY) or getattr(owner, MAPPER_KEY)
        mapper._check_configure()
        entity = mapper._entity
        return lambda: entity


class Mapper(EventTarget):
    """The mapping of one class to one table (``inspect(User)`` returns it)."""

    _event_signatures = MAPPER_EVENTS

    def __init__(
        self,
        class_: type,
        local_table: Any = None,
        properties: dict[str, Any] | None = None,
        primary_key: Any = None,
        version_id_col: Any = None,
        version_id_generator: Any = None,
        eager_defaults: Any = "auto",
        registry: Registry | None = None,
        inherits: Any = None,
        exclude_properties: Any = None,
        include_properties: Any = None,
        column_prefix: str | None = None,
        confirm_deleted_rows: bool = True,
        passive_deletes: bool = False,
        passive_updates: bool = True,
        order_by: Any = None,
        batch: bool = True,
        **kw: Any,
    ) -> None:
        if inherits is not None or kw.get("polymorphic_on") is not None:
            raise sa_exc.InvalidRequestError(
                f"Class {class_.__name__!r}: inheritance mapping (a mapped class extending another "
                "mapped class) is not supported yet"
            )
        if local_table is None:
            raise sa_exc.ArgumentError(f"Mapper for {class_.__name__!r} needs a table")
        self.class_ = class_
        self.local_table = local_table
        self.persist_selectable = local_table
        self.registry = registry
        self.inherits = None
        self.base_mapper = self
        self.non_primary = False
        self.single = False
        self.concrete = False
        self.polymorphic_identity = kw.get("polymorphic_identity")
        self.eager_defaults = eager_defaults
        self.confirm_deleted_rows = confirm_deleted_rows
        self.passive_deletes = passive_deletes
        self.passive_updates = passive_updates
        self.batch = batch
        self._identity_class = class_
        self._props: dict[str, MapperProperty] = {}
        self._configured = False
        self._configure_failed: BaseException | None = None
        self._init_dispatch()
        _propagation.apply(self)
        self.validators: dict[str, Callable[..., Any]] = {}
        self._order_by_default = None if order_by is None else list(order_by)
        self._exclude = set(exclude_properties or ())
        self._include = set(include_properties) if include_properties is not None else None
        self._column_prefix = column_prefix or ""
        self._collect_validators()
        properties = dict(properties or {})
        table_props: dict[Any, tuple[str, MapperProperty]] = {}
        for key, given in properties.items():
            value = given
            if isinstance(given, Column) or (
                isinstance(given, ColumnElement) and not isinstance(given, MapperProperty)
            ):
                value = ColumnProperty(given)
            elif isinstance(given, list | tuple):
                value = ColumnProperty(*given)
            if isinstance(value, ColumnProperty):
                for col in value.columns:
                    table_props[col] = (key, value)
            properties[key] = value
        for col in local_table.c:
            if col in table_props:
                continue
            key = self._column_prefix + col.key
            if key in self._exclude or (self._include is not None and key not in self._include):
                continue
            if key in properties:
                continue
            self._add_property(key, ColumnProperty(col), configure=False)
        for key, value in properties.items():
            self._add_property(key, value, configure=False)
        if primary_key is not None:
            pk = [
                c for c in (primary_key if isinstance(primary_key, list | tuple) else [primary_key])
            ]
        else:
            pk = list(local_table.primary_key)
        if not pk:
            raise sa_exc.ArgumentError(
                f"Mapper for class {class_.__name__!r} could not assemble any primary key "
                f"columns for mapped table {local_table.name!r}; give it a primary key, e.g. "
                "id: Mapped[int] = mapped_column(primary_key=True)"
            )
        self.primary_key: tuple[Column, ...] = tuple(pk)
        self.version_id_col = version_id_col
        if version_id_generator is None:
            version_id_generator = _next_version
        self.version_id_generator = version_id_generator
        self._setup_derived()
        setattr(class_, MAPPER_KEY, self)
        if "_event_redirect" not in class_.__dict__:
            class_._event_redirect = classmethod(_redirect_to_mapper)  # type: ignore[attr-defined]
        _instrument_init(class_)
        if "__clause_element__" not in class_.__dict__:
            class_.__clause_element__ = _EntityHook()  # type: ignore[attr-defined]
        if registry is not None:
            registry._add_mapper(self)
            registry._new_mappers = True
        _State.new_mappers = True

    # --- properties ------------------------------------------------------------------------

    def _collect_validators(self) -> None:
        for klass in reversed(self.class_.__mro__):
            for value in vars(klass).values():
                names = getattr(value, "__sa_validators__", None)
                if names:
                    for name in names:
                        self.validators[name] = value

    def _add_property(self, key: str, prop: MapperProperty, configure: bool = True) -> None:
        prop.set_parent(self, key)
        self._props[key] = prop
        prop.instrument(self.class_)
        if prop.impl is not None and key in self.validators:
            prop.impl.validator = self.validators[key]
        if configure:
            self._setup_derived()

    def _setup_derived(self) -> None:
        props = self._props
        self._column_props = [p for p in props.values() if isinstance(p, ColumnProperty)]
        self._relationships = [p for p in props.values() if isinstance(p, RelationshipProperty)]
        self._attribute_keys = tuple(
            p.key for p in props.values() if isinstance(p, ColumnProperty | RelationshipProperty)
        )
        self._column_keys = tuple(p.key for p in self._column_props)
        self._relationship_keys = frozenset(p.key for p in self._relationships)
        self._col_to_key: dict[Any, str] = {}
        for p in self._column_props:
            for col in p.columns:
                self._col_to_key.setdefault(col, p.key)
        load: list[tuple[str, ColumnElement]] = []
        for p in self._column_props:
            if p.deferred:
                continue
            col = p.columns[0]
            load.append((p.key, col.label(p.key) if p.is_expression else col))
        self._load_columns = load
        self._load_keys = tuple(k for k, _ in load)
        self._table_columns: list[tuple[str, Any]] = [
            (p.key, p.columns[0]) for p in self._column_props if not p.is_expression
        ]
        self._pk_keys = tuple(self._col_to_key[c] for c in getattr(self, "primary_key", ()))
        self._none_default_keys = tuple(
            k for k, c in self._table_columns if c.server_default is None and c.default is None
        )
        self._plain_scalar_impls = {
            p.key: p.impl for p in self._column_props if type(p.impl) is ScalarAttributeImpl
        }
        self._entity = EntityClause(self)
        self.__dict__.pop("_flush_plan", None)

    def _post_configure(self) -> None:
        for prop in list(self._props.values()):
            prop.post_configure()
            if prop.impl is not None and prop.key in self.validators:
                prop.impl.validator = self.validators[prop.key]
        self._setup_derived()
        self._configured = True

    def _check_configure(self) -> None:
        registry = self.registry
        if registry is not None and registry._new_mappers:
            _configure_registry(registry)

    def _for_class(self, cls: type) -> Mapper:
        return self

    # --- public API ------------------------------------------------------------------------

    @property
    def mapped_table(self) -> Any:
        return self.local_table

    @property
    def selectable(self) -> Any:
        return self.local_table

    @property
    def tables(self) -> list[Any]:
        return [self.local_table]

    @property
    def entity(self) -> type:
        return self.class_

    @property
    def mapper(self) -> Mapper:
        return self

    @property
    def is_mapper(self) -> bool:
        return True

    @property
    def configured(self) -> bool:
        return self._configured

    @property
    def attrs(self) -> _PropertyView:
        """All mapped properties by name."""
        self._check_configure()
        return _PropertyView(self._props)

    @property
    def column_attrs(self) -> _PropertyView:
        return _PropertyView({p.key: p for p in self._column_props})

    @property
    def relationships(self) -> _PropertyView:
        self._check_configure()
        return _PropertyView({p.key: p for p in self._relationships})

    @property
    def synonyms(self) -> _PropertyView:
        return _PropertyView(
            {k: p for k, p in self._props.items() if isinstance(p, SynonymProperty)}
        )

    @property
    def all_orm_descriptors(self) -> _PropertyView:
        return _PropertyView({k: getattr(self.class_, k) for k in self._props})

    @property
    def columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for p in self._column_props:
            cols.add(p.columns[0], p.key)
        return cols

    c = columns

    @property
    def iterate_properties(self) -> Iterator[MapperProperty]:
        self._check_configure()
        return iter(self._props.values())

    def get_property(self, key: str) -> MapperProperty:
        self._check_configure()
        try:
            return self._props[key]
        except KeyError:
            raise sa_exc.InvalidRequestError(f"Mapper {self} has no property {key!r}") from None

    def has_property(self, key: str) -> bool:
        return key in self._props

    def get_property_by_column(self, column: Any) -> MapperProperty:
        return self._props[self._col_to_key[column]]

    def _identity_key(self, pk: tuple[Any, ...]) -> IdentityKey:
        return (self._identity_class, pk, None)

    def identity_key_from_primary_key(
        self, primary_key: Any, identity_token: Any = None
    ) -> IdentityKey:
        return (self._identity_class, tuple(primary_key), identity_token)

    def identity_key_from_instance(self, instance: Any) -> IdentityKey:
        return self._identity_key(tuple(self.primary_key_from_instance(instance)))

    def primary_key_from_instance(self, instance: Any) -> list[Any]:
        d = instance.__dict__
        return [d.get(k) if k in d else getattr(instance, k) for k in self._pk_keys]

    def identity_key_from_row(self, row: Any, identity_token: Any = None) -> IdentityKey:
        return (self._identity_class, tuple(row[c] for c in self.primary_key), identity_token)

    def __repr__(self) -> str:
        return f"<Mapper {self.class_.__name__}({self.local_table.name})>"

    def __str__(self) -> str:
        return f"Mapper[{self.class_.__name__}({self.local_table.name})]"


class _PropertyView:
    def __init__(self, props: dict[str, Any]) -> None:
        self._props = props

    def __getattr__(self, key: str) -> Any:
        try:
            return self._props[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> Any:
        return self._props[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._props.values()))

    def __len__(self) -> int:
        return len(self._props)

    def __contains__(self, key: object) -> bool:
        return key in self._props

    def keys(self) -> list[str]:
        return list(self._props)

    def values(self) -> list[Any]:
        return list(self._props.values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._props.items())


def _redirect_to_mapper(cls: type, target: Any, identifier: str) -> Any:
    mapper = target.__dict__.get(MAPPER_KEY) if isinstance(target, type) else None
    if mapper is None:
        mapper = getattr(target if isinstance(target, type) else type(target), MAPPER_KEY)
    return mapper


class _MapperEventPropagation:
    """``propagate=True`` for mapper and instance events on a class: every mapped subclass,
    mapped now or later, gets the listener (the class itself may be an unmapped base or mixin)."""

    def __init__(self) -> None:
        self.entries: list[tuple[type, str, Listener, dict[str, Any]]] = []

    def listen(
        self, target: Any, identifier: str, fn: Listener, propagate: bool, options: dict[str, Any]
    ) -> bool:
        if (
            not propagate
            or not isinstance(target, type)
            or issubclass(target, EventTarget)
            or identifier not in MAPPER_EVENTS
        ):
            return False
        self.entries.append((target, identifier, fn, dict(options)))
        for mapper in _mappers_under(target):
            add_listener(mapper, identifier, fn, **options)
        return True

    def remove(self, target: Any, identifier: str, fn: Listener) -> bool:
        for entry in self.entries:
            if entry[0] is target and entry[1] == identifier and entry[2] is fn:
                self.entries.remove(entry)
                for mapper in _mappers_under(target):
                    if has_listener(mapper, identifier, fn):
                        remove_listener(mapper, identifier, fn)
                return True
        return False

    def apply(self, mapper: Mapper) -> None:
        """Give a new mapper the propagated listeners of its class's bases."""
        for target, identifier, fn, options in self.entries:
            if issubclass(mapper.class_, target):
                add_listener(mapper, identifier, fn, **options)


def _mappers_under(target: type) -> list[Mapper]:
    return [
        mapper
        for reg in list(_all_registries)
        for mapper in reg._mappers
        if issubclass(mapper.class_, target)
    ]


_propagation = _MapperEventPropagation()
propagators.append(_propagation)


def _instrument_init(cls: type) -> None:
    """Wrap a class's own ``__init__`` so construction configures mappers and fires ``init``."""
    original = cls.__dict__.get("__init__")
    if original is None or getattr(original, "_sa_wrapped", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        mapper = type(self).__dict__.get(MAPPER_KEY) or getattr(type(self), MAPPER_KEY)
        mapper._check_configure()
        if mapper.dispatch.init:
            for fn in mapper.dispatch.init:
                fn(self, args, kwargs)
        original(self, *args, **kwargs)

    __init__._sa_wrapped = True  # type: ignore[attr-defined]
    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    __init__.__doc__ = original.__doc__
    cls.__init__ = __init__  # type: ignore[misc]


def validates(
    *names: str, include_removes: bool = False, include_backrefs: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a method ``(self, key, value) -> value`` run whenever the named attributes are
    set (or appended to, for collections); raise in it to refuse a value."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__sa_validators__ = names  # type: ignore[attr-defined]
        fn.__sa_validation_opts__ = {  # type: ignore[attr-defined]
            "include_removes": include_removes,
            "include_backrefs": include_backrefs,
        }
        return fn

    return wrap


def _next_version(value: Any) -> int:
    return (value or 0) + 1


def configure_mappers() -> None:
    """Resolve every relationship of every registry (called automatically on first use)."""
    if not _State.new_mappers:
        return
    with _configure_lock:
        for reg in list(_all_registries):
            _configure_registry(reg)
        _State.new_mappers = False


def _configure_registry(reg: Registry) -> None:
    if not reg._new_mappers:
        return
    with _configure_lock:
        for mapper in list(reg._mappers):
            if mapper._configure_failed is not None:
                raise sa_exc.InvalidRequestError(
                    f"One or more mappers failed to configure ({mapper}), so no mapper of this "
                    "registry can be used until the mapping is fixed; the original error was: "
                    f"{mapper._configure_failed}"
                ) from mapper._configure_failed
        for mapper in list(reg._mappers):
            if mapper._configured:
                continue
            try:
                mapper._post_configure()
            except Exception as error:
                mapper._configure_failed = error
                raise
        reg._new_mappers = False


def clear_mappers() -> None:
    """Remove every mapping (for tests that map classes again)."""
    with _configure_lock:
        for reg in list(_all_registries):
            reg.dispose()


def _inspect_class(cls: Any) -> Any:
    mapper = cls.__dict__.get(MAPPER_KEY) if isinstance(cls, type) else None
    if mapper is None and isinstance(cls, type):
        mapper = getattr(cls, MAPPER_KEY, None)
    if mapper is not None:
        mapper._check_configure()
    return mapper


def _inspect_object(obj: Any) -> Any:
    d = getattr(obj, "__dict__", None)
    if d is None:
        return None
    if STATE_KEY in d or getattr(type(obj), MAPPER_KEY, None) is not None:
        return instance_state(obj)
    return None


inspection.register(type, _inspect_class)
inspection.register(Mapper, lambda m: m)
inspection.register(object, _inspect_object)

_ = (orm_exc, Label)
