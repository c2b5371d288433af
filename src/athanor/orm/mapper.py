"""The Mapper: how one class maps to one table, and the configuration of all mappers.

A mapper owns the mapped properties of its class, the class-level descriptors, the identity
key recipe (``(class, primary key tuple, None)``) and the *entity* clause that ``select(User)``
holds; it also caches what loading and flushing need (column keys in load order, primary-key
attribute keys, column -> attribute maps) so that per-row work does no lookups.
"""

from __future__ import annotations

import copy
import sys
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from athanor import exc as sa_exc
from athanor import inspection
from athanor.event import registry as event_registry
from athanor.event.registry import (
    EventTarget,
    Listener,
    add_listener,
    class_listeners,
    has_listener,
    propagators,
    remove_listener,
)
from athanor.orm import exc as orm_exc
from athanor.orm.attributes import InstrumentedAttribute, ScalarAttributeImpl, Validator
from athanor.orm.base import MAPPER_KEY, STATE_KEY, instance_state
from athanor.orm.events import MAPPER_EVENTS
from athanor.orm.interfaces import MapperProperty
from athanor.orm.properties import ColumnProperty, SynonymProperty
from athanor.orm.relationships import RelationshipProperty
from athanor.sql.elements import (
    CacheAttrs,
    ColumnElement,
    ColumnOperators,
    KeyContext,
    Label,
    and_,
)
from athanor.sql.plugin import CompilePlugin, Translation
from athanor.sql.schema import Column, Table
from athanor.sql.selectable import ColumnCollection, FromClause

if TYPE_CHECKING:
    from athanor.orm.decl_api import registry as Registry  # noqa: N812
    from athanor.orm.state import IdentityKey

_configure_lock = threading.RLock()
_all_registries: weakref.WeakSet[Registry] = weakref.WeakSet()


class _State:
    new_mappers = False


_configuring: dict[Registry, int] = {}
"""The registries whose mappers are being configured now, with the thread doing it."""


_fast_init_mappers: weakref.WeakSet[Mapper] = weakref.WeakSet()
"""The mappers whose class has a generated constructor (``Mapper._set_fast_init``)."""
_fast_init_lock = threading.Lock()


def _drop_fast_inits() -> None:
    """Take every generated constructor back: they store values without asking listeners,
    which may just have been added."""
    for mapper in list(_fast_init_mappers):
        mapper._drop_fast_init()


event_registry.change_hooks.append(_drop_fast_inits)


class _OrmCompilePlugin(CompilePlugin):
    """Compiles ``select(User, ...)``: entity columns, column options and joined eager loads."""

    def translate(self, statement: Any, dialect: Any) -> Translation:
        from athanor.orm.loading import criteria_everywhere, plan_for

        for raw in statement._raw_columns:
            # A select() made while a relationship named a class not defined yet (in a class
            # body) left the mappers unconfigured: they are configured by now, or say why.
            mapper = getattr(raw, "mapper", None)
            if isinstance(mapper, Mapper):
                mapper._check_configure()
        plan = plan_for(statement)
        return Translation(plan.executed(statement), plan, criteria_everywhere(statement))

    def translate_nested(self, statement: Any, dialect: Any) -> Any:
        from athanor.orm.loading import nested_statement

        return nested_statement(statement)


class EntityClause(FromClause):
    """A mapped class inside a statement: renders as its table, keeps the class for loading.

    Its ``c`` collection holds the columns loaded for the class keyed by attribute name, so
    ``select(User)`` selects them and ``filter_by(name=...)`` finds them.
    """

    __visit_name__ = "table"
    given_name: str | None = None
    """``aliased(User, name=...)``: the name rows and ``column_descriptions`` use."""
    _stable_identity = True
    named_with_column = True
    _compile_plugin = _OrmCompilePlugin()

    def __init__(self, mapper: Mapper) -> None:
        self.mapper = mapper
        self.table = mapper.local_table
        self.name = self.table.name
        self.schema = getattr(self.table, "schema", None)
        self._load_keys: tuple[str, ...] | None = None
        """The attribute names of ``c`` when they differ from the mapper's load keys."""
        self._entity_tables: list[FromClause] = [self.table]

    @property
    def fullname(self) -> str:
        return str(self.table.fullname)

    def _grouping_columns(self) -> list[ColumnElement]:
        """The columns ``group_by(Class)`` groups by: the class's table columns it loads
        (not its SQL-expression attributes)."""
        return [col for col in self.c if not isinstance(col, Label)]

    def _namespace_attribute(self, key: str) -> Any:
        """The class attribute ``key`` that ``filter_by(key=...)`` compares when it is not
        a loaded column (a hybrid, a relationship), or None."""
        owner = getattr(self, "_aliased_class", None) or self.mapper.class_
        found = getattr(owner, key, None)
        return found if isinstance(found, ColumnOperators | ColumnElement) else None

    @property
    def _dml_table(self) -> Any:
        return self.table

    _poly_columns: list[tuple[str, ColumnElement]] | None = None
    """The (attribute, column) pairs of an entity loading more or other columns than its
    mapper's (subclass columns, a polymorphic union's, an aliased join's)."""

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for key, col in self._poly_columns or self.mapper._load_columns:
            cols.add(col, key)
        return cols

    @property
    def _hide_froms(self) -> list[FromClause]:
        return self._entity_tables

    def _ck(self, ctx: KeyContext) -> Hashable:
        return self

    @property
    def entity_namespace(self) -> Any:
        return self.mapper.class_

    def _describe(self) -> dict[str, Any]:
        """This entity's entry in ``select(...).column_descriptions``."""
        cls = self.mapper.class_
        aliased = self is not self.mapper._entity
        return {
            "name": self.given_name if aliased else cls.__name__,
            "type": cls,
            "aliased": aliased,
            "expr": self if aliased else cls,
            "entity": self if aliased else cls,
        }

    def _describe_column(self, name: str, column: ColumnElement) -> dict[str, Any]:
        """The ``column_descriptions`` entry of ``column`` (an expression over this entity's
        columns, such as ``count(Manager.id)`` or ``ua.name``): it belongs to this entity."""
        owner = self._describe()["entity"]
        # A column of the entity itself is named by its attribute.
        name = next((key for key, col in self.c.items() if col is column), name)
        return {
            "name": name,
            "type": column.type,
            "aliased": self is not self.mapper._entity,
            "expr": column,
            "entity": owner,
        }

    def __repr__(self) -> str:
        return f"<entity {self.mapper.class_.__name__}>"


class JoinedEntityClause(EntityClause):
    """A joined-table subclass inside a statement: renders as its table joined to every parent
    table (``employee JOIN manager ON ...``)."""

    __visit_name__ = "entity_proxy"

    def __init__(self, mapper: Mapper) -> None:
        super().__init__(mapper)
        self._proxied_from = mapper._inheritance_join()
        self._entity_tables = list(mapper._persist_tables)


class SubclassColumn(ColumnElement):
    """A column selected as an attribute of an inheriting class (``select(Manager.name)``)
    or of an aliased joined-table class: renders as the column; its FROM object is the
    class's entity (all the joined tables) and the ORM compile step adds a single-table
    subclass's discriminator criteria, as for ``select(Manager)``."""

    __visit_name__ = "type_coerce"
    _compile_plugin = EntityClause._compile_plugin

    def __init__(
        self, clause: ColumnElement, mapper: Mapper, entity: EntityClause | None = None
    ) -> None:
        self.clause = clause
        self.type = clause.type
        self.key = clause.key
        self.mapper = mapper
        self._of_entity = entity
        """The entity the column belongs to when not the class's own (an aliased class
        whose tables are each aliased)."""

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("clause", "element"),
        ("mapper", "plain"),
        ("_of_entity", "plain"),
    )

    @property
    def marked_column(self) -> ColumnElement:
        """The column itself, without the class (see ``replace_columns``, ``unmarked``)."""
        return self.clause

    @property
    def entity(self) -> EntityClause:
        own = self._of_entity
        return self.mapper._entity if own is None else own

    @property
    def _proxy_name(self) -> str | None:
        return self.clause._proxy_name

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self.entity]


class _EntityHook:
    """``Class.__clause_element__()`` for select()/join(); absent on instances."""

    def __get__(self, instance: Any, owner: type) -> Callable[[], EntityClause]:
        if instance is not None:
            raise AttributeError("__clause_element__")
        mapper = owner.__dict__.get(MAPPER_KEY) or getattr(owner, MAPPER_KEY)
        registry = mapper.registry
        # (its test made here first: this runs per select())
        if registry is not None and registry._new_mappers and not registry._names_pending():
            mapper._check_configure()
        entity = mapper._entity
        return lambda: entity


class _StateHook:
    """``obj._sa_instance_state`` of an object whose state is not made yet (the declarative
    constructor leaves that to the first use): makes it.  Once made, the state in the
    instance ``__dict__`` answers first."""

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            raise AttributeError(STATE_KEY)
        return instance_state(instance)


_VIEW_OWN_CACHES = (
    "_insert_shapes",
    "_insert_plan",
    "_plain_params",
    "_new_object_plan",
    "_update_stmts",
    "_pk_stmt",
)
"""Flush caches a joined-inheritance table view makes for itself (not copied from its mapper)."""


class Mapper(EventTarget):
    """The mapping of one class to one table (``inspect(User)`` returns it)."""

    _event_signatures = MAPPER_EVENTS
    _orphan_parents: tuple[Any, ...] = ()
    """The ``delete-orphan`` relationships whose target is this mapper: a new object of it
    must belong to one of them when flushed."""

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
        parent = _parent_mapper(class_, inherits)
        concrete = bool(kw.get("concrete", False))
        if parent is not None and not concrete and local_table is None:
            local_table = parent.local_table
        if local_table is None:
            raise sa_exc.ArgumentError(f"Mapper for {class_.__name__!r} needs a table")
        self.class_: type = class_
        self.local_table: Any = local_table
        self.registry = registry
        self.inherits = parent
        self.base_mapper = self
        self.non_primary = False
        self.single = False
        self.concrete = concrete
        self.polymorphic_identity = kw.get("polymorphic_identity")
        self.polymorphic_abstract = bool(kw.get("polymorphic_abstract", False))
        self.polymorphic_load = kw.get("polymorphic_load")
        if self.polymorphic_load not in (None, "inline", "selectin"):
            raise sa_exc.ArgumentError(
                f"Class {class_.__name__!r}: polymorphic_load={self.polymorphic_load!r}; use "
                '"inline" (columns joined into queries of the base) or "selectin" (one more '
                "SELECT per query of the base)"
            )
        self.with_polymorphic = kw.get("with_polymorphic")
        self.polymorphic_on: ColumnElement | None = None
        self.polymorphic_map: dict[Any, Mapper] = {}
        self._persist_tables: tuple[Any, ...] = (local_table,)
        self.inherit_condition: ColumnElement | None = None
        self._identity_class = class_
        self._polymorphic_key: str | None = None
        self._subclass_mappers: list[Mapper] = []
        self._concrete_mappers: list[Mapper] = []
        if parent is not None and concrete:
            # Its rows load through the parent's polymorphic union by discriminator value.
            parent._concrete_mappers.append(self)
            self.polymorphic_map = parent.polymorphic_map
        self.eager_defaults = eager_defaults
        self.confirm_deleted_rows = confirm_deleted_rows
        self.passive_deletes = passive_deletes
        self.passive_updates = passive_updates
        self.batch = batch
        self._props: dict[str, MapperProperty] = {}
        self._configured = False
        self._configure_failed: BaseException | None = None
        self._narrow_loads = False
        self._marks_select_columns = False
        """Whether ``select(Class.attr)`` selects this class's columns marked with it (see
        :meth:`_mark_select_columns`)."""
        """Whether some query loaded objects of this class without all of its default
        columns, so that later queries check the objects they find in the session for
        columns to fill in."""
        self._init_dispatch()
        _propagation.apply(self)
        for fn in self.dispatch.instrument_class:
            fn(self, class_)
        self.validators: dict[str, Validator] = {}
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
        inherited = parent is not None and not concrete
        if inherited:
            assert parent is not None
            self._inherit_from(parent, kw.get("polymorphic_on"), kw.get("inherit_condition"))
        for col in () if self.single else local_table.c:
            if col in table_props or getattr(col, "_omit_from_statements", False):
                continue
            key = self._column_prefix + col.key
            if key in self._exclude or (self._include is not None and key not in self._include):
                continue
            if key in properties:
                continue
            inherited_prop = self._props.get(key)
            if isinstance(inherited_prop, ColumnProperty):
                # The subclass table's copy of a parent column (its key to the parent row).
                merged = ColumnProperty(*inherited_prop.columns, col)
                self._add_property(key, merged, configure=False)
                continue
            self._add_property(key, ColumnProperty(col), configure=False)
        for key, value in properties.items():
            previous = self._props.get(key)
            if (
                inherited
                and not self.single
                and isinstance(previous, ColumnProperty)
                and isinstance(value, ColumnProperty)
            ):
                value.columns = [
                    *(c for c in previous.columns if c not in value.columns),
                    *value.columns,
                ]
            self._add_property(key, value, configure=False)
        if primary_key is None and inherited:
            assert parent is not None
            pk = list(parent.primary_key)
        elif primary_key is not None:
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
        if inherited and version_id_col is None:
            assert parent is not None
            version_id_col = parent.version_id_col
            version_id_generator = version_id_generator or parent.version_id_generator
        self.version_id_col: Any = version_id_col
        if version_id_generator is None:
            version_id_generator = _next_version
        self.version_id_generator: Callable[[Any], Any] = version_id_generator
        if not inherited:
            self._setup_polymorphic_on(kw.get("polymorphic_on"))
        self._register_identity()
        self._declared_count = len(self._props)
        """How many of ``_props`` the mapping declared (the rest came later: backrefs)."""
        self._setup_derived()
        if inherited:
            self._mark_select_columns()
        for base in class_.__mro__[1:]:
            # A mapped subclass constructs through its base's constructor: not a generated one.
            found = base.__dict__.get(MAPPER_KEY)
            if isinstance(found, Mapper):
                found._drop_fast_init()
        setattr(class_, MAPPER_KEY, self)
        if "_event_redirect" not in class_.__dict__:
            class_._event_redirect = classmethod(_redirect_to_mapper)  # type: ignore[attr-defined]
        _instrument_init(class_)
        if "__clause_element__" not in class_.__dict__:
            class_.__clause_element__ = _EntityHook()  # type: ignore[attr-defined]
        if STATE_KEY not in class_.__dict__:
            setattr(class_, STATE_KEY, _StateHook())
        if registry is not None:
            registry._add_mapper(self)
            registry._new_mappers = True
        _State.new_mappers = True
        for fn in self.dispatch.after_mapper_constructed:
            fn(self, class_)

    # --- inheritance -----------------------------------------------------------------------

    def _inherit_from(self, parent: Mapper, polymorphic_on: Any, inherit_condition: Any) -> None:
        """Take the parent's properties, identity and discriminator; single-table when the
        subclass has no table of its own, joined-table otherwise."""
        if polymorphic_on is not None and not _same_discriminator(parent, polymorphic_on):
            raise sa_exc.ArgumentError(
                f"Class {self.class_.__name__!r}: polymorphic_on belongs on the base of the "
                f"hierarchy ({parent.base_mapper.class_.__name__}), not on a subclass"
            )
        self.base_mapper = parent.base_mapper
        self._identity_class = parent._identity_class
        self.polymorphic_on = parent.polymorphic_on
        self.polymorphic_map = parent.polymorphic_map
        self._polymorphic_key = parent._polymorphic_key
        if self.local_table is parent.local_table:
            self.single = True
            self._persist_tables = parent._persist_tables
        else:
            self.inherit_condition = (
                inherit_condition
                if inherit_condition is not None
                else _inherit_condition(self, parent)
            )
            self._persist_tables = (*parent._persist_tables, self.local_table)
        self._props.update(parent._props)
        for key, prop in parent._props.items():
            inherited = parent.class_.__dict__.get(key)
            if isinstance(prop, ColumnProperty) and isinstance(inherited, InstrumentedAttribute):
                # The subclass's own view of the attribute (same implementation and
                # listeners), so that select(Sub.attr) knows the class it names.
                view = copy.copy(inherited)
                view.class_ = self.class_
                setattr(self.class_, key, view)
        for ancestor in self.iterate_to_root():
            if ancestor is not self:
                ancestor._subclass_mappers.append(self)
        self._install_validators()

    def _setup_polymorphic_on(self, polymorphic_on: Any) -> None:
        """The discriminator of a hierarchy base: a column, a mapped attribute's name or a SQL
        expression (then loaded under a label of its own)."""
        self._polymorphic_key = None
        if polymorphic_on is None:
            return
        if isinstance(polymorphic_on, str):
            prop = self._props.get(polymorphic_on)
            if not isinstance(prop, ColumnProperty):
                raise sa_exc.ArgumentError(
                    f"Class {self.class_.__name__!r}: polymorphic_on={polymorphic_on!r} names no "
                    "mapped column; name a column attribute or pass the column itself"
                )
            polymorphic_on = prop.columns[0]
        elif isinstance(polymorphic_on, ColumnProperty):
            polymorphic_on = polymorphic_on.columns[0]
        elif hasattr(polymorphic_on, "__clause_element__"):
            polymorphic_on = polymorphic_on.__clause_element__()
        self.polymorphic_on = polymorphic_on
        for prop in self._props.values():
            if isinstance(prop, ColumnProperty) and polymorphic_on in prop.columns:
                self._polymorphic_key = prop.key
                return
        self._polymorphic_key = _DISCRIMINATOR

    def _set_polymorphic_selectable(self, selectable: Any, discriminator: Any) -> None:
        """Load this class and its subclasses from ``selectable`` (a polymorphic union),
        telling them apart by its column ``discriminator`` (``ConcreteBase`` sets this up)."""
        self.with_polymorphic = ("*", selectable)
        self._setup_polymorphic_on(discriminator)
        self._setup_derived()
        self._setup_polymorphic_entity()
        self._mark_select_columns()

    def _mark_select_columns(self) -> None:
        """Make ``select(Class.attr)`` of this class's column attributes select the column
        marked with the class (:class:`SubclassColumn`), whose FROM object is the class's
        entity: the rows of an inheriting class only, or a polymorphic union."""
        self._marks_select_columns = True
        for key, prop in self._props.items():
            attr = self.class_.__dict__.get(key)
            if not isinstance(prop, ColumnProperty) or not isinstance(attr, InstrumentedAttribute):
                continue
            if attr.class_ is self.class_:
                attr._select_column_element = _returning(self._subclass_column(prop.columns[0]))

    def _register_identity(self) -> None:
        identity = self.polymorphic_identity
        if self.polymorphic_abstract:
            add_listener(self, "init", _refuse_abstract)
        if identity is None:
            return
        if self.polymorphic_on is None and not self.concrete and self.inherits is not None:
            raise sa_exc.ArgumentError(
                f"Class {self.class_.__name__!r} has polymorphic_identity={identity!r} but the "
                f"base class {self.base_mapper.class_.__name__!r} has no polymorphic_on; add "
                '__mapper_args__ = {"polymorphic_on": "type", ...} to the base naming its '
                "discriminator column"
            )
        taken = self.polymorphic_map.get(identity)
        if taken is not None and taken.class_ is not self.class_:
            raise sa_exc.ArgumentError(
                f"Class {self.class_.__name__!r}: polymorphic_identity={identity!r} is already "
                f"used by {taken.class_.__name__!r}; every class of a hierarchy needs its own"
            )
        self.polymorphic_map[identity] = self
        key = self._polymorphic_key
        if key is not None and key != _DISCRIMINATOR:
            add_listener(self, "init", _identity_setter(key, identity))

    def _inheritance_join(
        self, subclasses: Sequence[Mapper] = (), innerjoin: bool = False
    ) -> FromClause:
        """The tables of this mapper joined along their inherit conditions, then the tables of
        ``subclasses`` (for ``with_polymorphic``) outer-joined (inner-joined if
        ``innerjoin``)."""
        chain = list(self.iterate_to_root())[::-1]
        from_: FromClause = chain[0].local_table
        for mapper in chain[1:]:
            if mapper.inherit_condition is not None:
                from_ = from_.join(mapper.local_table, mapper.inherit_condition)
        seen = set(self._persist_tables)
        for sub in subclasses:
            for mapper in list(sub.iterate_to_root())[::-1]:
                if mapper.local_table in seen or mapper.inherit_condition is None:
                    continue
                seen.add(mapper.local_table)
                from_ = from_.join(
                    mapper.local_table, mapper.inherit_condition, isouter=not innerjoin
                )
        return from_

    def _subclass_column(self, column: ColumnElement) -> SubclassColumn:
        """``column`` selected as an attribute of this (inheriting) class."""
        cache: dict[int, SubclassColumn] = self.__dict__.setdefault("_subclass_columns", {})
        found = cache.get(id(column))
        if found is None:
            found = cache[id(column)] = SubclassColumn(column, self)
        return found

    def iterate_to_root(self) -> Iterator[Mapper]:
        """This mapper, its parent, and so on up to the base of the hierarchy."""
        mapper: Mapper | None = self
        while mapper is not None:
            yield mapper
            mapper = mapper.inherits

    def isa(self, other: Mapper) -> bool:
        """Whether this mapper is ``other`` or inherits from it."""
        return any(m is other for m in self.iterate_to_root())

    @property
    def self_and_descendants(self) -> list[Mapper]:
        """This mapper and every mapper inheriting from it."""
        return [self, *self._subclass_mappers]

    def _identities(self) -> list[Any]:
        """The discriminator values of this class and its subclasses."""
        mappers = self.self_and_descendants
        return [m.polymorphic_identity for m in mappers if m.polymorphic_identity is not None]

    # --- properties ------------------------------------------------------------------------

    def _collect_validators(self) -> None:
        reconstructor = None
        for klass in reversed(self.class_.__mro__):
            for value in vars(klass).values():
                names = getattr(value, "__sa_validators__", None)
                if names:
                    opts = value.__sa_validation_opts__
                    made = Validator(value, opts["include_removes"], opts["include_backrefs"])
                    for name in names:
                        self.validators[name] = made
                if getattr(value, "__sa_reconstructor__", False):
                    reconstructor = value
        if reconstructor is not None:
            add_listener(self, "load", _run_reconstructor(reconstructor))

    def _install_validators(self) -> None:
        """Give each attribute this class validates its validator.  An attribute inherited
        from a base shares the base's implementation, so a subclass validating it (or
        validating it differently) makes that implementation pick the validator by the
        instance's class."""
        for key, fn in self.validators.items():
            prop = self._props.get(key)
            impl = None if prop is None else prop.impl
            if impl is None or isinstance(impl.validator, _ValidatorByClass):
                continue
            if prop is not None and prop.parent is not self:
                inherited = prop.parent.validators.get(key)
                if inherited is None or inherited.fn is not fn.fn:
                    impl.validator = _ValidatorByClass()
            else:
                impl.validator = fn

    def _add_property(self, key: str, prop: MapperProperty, configure: bool = True) -> None:
        prop.set_parent(self, key)
        self._props[key] = prop
        prop.instrument(self.class_)
        impl = prop.impl
        validator = self.validators.get(key)
        if impl is not None and validator and not isinstance(impl.validator, _ValidatorByClass):
            impl.validator = validator
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
        if self._polymorphic_key == _DISCRIMINATOR:
            assert self.polymorphic_on is not None
            load.append((_DISCRIMINATOR, self.polymorphic_on.label(_DISCRIMINATOR)))
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
        self._fresh_committed: dict[tuple[str, ...], Mapping[str, Any]] = {}
        """The committed state of a new object per key tuple of its ``__dict__``
        (see :func:`athanor.orm.base._new_state`)."""
        self._plain_init: tuple[int, frozenset[str] | None] = (-1, None)
        self._drop_fast_init()
        self._entity = (
            EntityClause(self) if len(self._persist_tables) == 1 else JoinedEntityClause(self)
        )
        self._persist_views = (
            (self,)
            if len(self._persist_tables) == 1
            else tuple(self._table_view(t) for t in self._persist_tables)
        )
        self.__dict__.pop("_flush_plan", None)
        self._claim_table()

    def _table_view(self, table: Any) -> Mapper:
        """This mapper narrowed to one of its joined-inheritance tables, for flushing the rows
        of that table: its columns, its primary key, its own statement caches."""
        view = copy.copy(self)
        view.__dict__ = {k: v for k, v in self.__dict__.items() if k not in _VIEW_OWN_CACHES}
        view.local_table = table
        view.primary_key = tuple(table.primary_key)
        columns = [
            (p.key, col)
            for p in self._column_props
            if not p.is_expression
            for col in p.columns
            if isinstance(col, Column) and col.table is table
        ]
        view._table_columns = columns
        view._pk_keys = tuple(self._col_to_key[c] for c in view.primary_key)
        keys = {k for k, _ in columns}
        view._none_default_keys = tuple(k for k in self._none_default_keys if k in keys)
        if self.version_id_col is not None and self.version_id_col.table is not table:
            view.version_id_col = None
        return view

    def _post_configure(self) -> None:
        for prop in list(self._props.values()):
            if prop.parent is not self:
                continue
            prop.post_configure()
        self._install_validators()
        self._setup_derived()
        self._setup_polymorphic_entity()
        self._configured = True

    def _claim_table(self) -> None:
        """Let expressions over this class's own table name the class as their entity
        (``select(func.count(User.id)).column_descriptions``), unless another class maps
        that table too (a single-table subclass shares its base's, claiming nothing)."""
        table = self.local_table
        parent = self.inherits
        if not isinstance(table, Table) or (parent is not None and parent.local_table is table):
            return
        claimed = table.__dict__.get("_mapped_entity", self._entity)
        mine = claimed is self._entity or getattr(claimed, "mapper", None) is self
        table._mapped_entity = self._entity if mine else None  # type: ignore[attr-defined]

    def _setup_polymorphic_entity(self) -> None:
        """With ``with_polymorphic=`` or ``polymorphic_load="inline"`` subclasses, queries of
        this class select their columns too."""
        from athanor.orm.polymorphic import HierarchyEntity, polymorphic_entity, subclass_mappers

        wanted = self.with_polymorphic
        if isinstance(wanted, tuple):
            wanted, selectable = (*wanted, None)[:2]
            if selectable is not None:
                self._entity = HierarchyEntity(self, selectable)
                self._claim_table()
                return
        subs = [] if wanted is None else subclass_mappers(self, wanted, "with_polymorphic")
        subs += [m for m in self._subclass_mappers if m.polymorphic_load == "inline"]
        if subs:
            self._entity = polymorphic_entity(self, list(dict.fromkeys(subs)))
            self._claim_table()

    def _check_configure(self) -> None:
        registry = self.registry
        if registry is not None and registry._new_mappers:
            _configure_registry(registry)

    def _for_class(self, cls: type) -> Mapper:
        return self

    def _set_fast_init(self, init: Callable[..., None]) -> None:
        """Make ``init`` (made by the declarative constructor for this mapper's attributes
        as they are now) the class's ``__init__`` until :meth:`_drop_fast_init`."""
        cls = self.class_
        with _fast_init_lock:
            if "_fast_init" in self.__dict__:  # another thread was first
                return
            self.__dict__["_fast_init"] = (init, cls.__dict__.get("__init__"))
            type.__setattr__(cls, "__init__", init)
            _fast_init_mappers.add(self)

    def _drop_fast_init(self) -> None:
        """Put back the ``__init__`` that :meth:`_set_fast_init` replaced, if still in place."""
        with _fast_init_lock:
            found = self.__dict__.pop("_fast_init", None)
            if found is None:
                return
            _fast_init_mappers.discard(self)
            init, replaced = found
            cls = self.class_
            if cls.__dict__.get("__init__") is init:
                if replaced is None:
                    type.__delattr__(cls, "__init__")
                else:
                    type.__setattr__(cls, "__init__", replaced)

    def _refresh_plain_init(self) -> tuple[int, frozenset[str] | None]:
        """``(listener generation, keys)``: the attributes the declarative constructor may
        store straight into a new object's ``__dict__`` (column attributes nobody validates
        or listens to), or None while ``init`` has listeners; kept in ``_plain_init`` until
        listeners change."""
        keys = None
        if not self.dispatch.init:
            keys = frozenset(
                key
                for key, impl in self._plain_scalar_impls.items()
                if impl.validator is None and not impl.dispatch.set
            )
        found = self._plain_init = (event_registry.generation, keys)
        return found

    # --- public API ------------------------------------------------------------------------

    is_aliased_class = False

    @property
    def persist_selectable(self) -> Any:
        """What the class's rows are written to and read from: its table, or for joined-table
        inheritance the join of its tables and its ancestors'."""
        found = self.__dict__.get("_persist_selectable")
        if found is None:
            tables = self._persist_tables
            found = tables[0] if len(tables) == 1 else self._inheritance_join()
            self._persist_selectable = found
        return found

    mapped_table = persist_selectable

    @property
    def selectable(self) -> Any:
        """What queries of the class select from: the ``with_polymorphic`` selectable (a
        polymorphic union) when one is given, else :attr:`persist_selectable`."""
        wanted = self.with_polymorphic
        if isinstance(wanted, tuple) and len(wanted) > 1 and wanted[1] is not None:
            return wanted[1]
        return self.persist_selectable

    @property
    def tables(self) -> list[Any]:
        """The tables the class is mapped to (its ancestors' first)."""
        return list(self._persist_tables)

    @property
    def with_polymorphic_mappers(self) -> list[Mapper]:
        """The subclass mappers queries of this class load with it by default (with the
        mapper itself first), from ``with_polymorphic``; empty without it."""
        from athanor.orm.polymorphic import subclass_mappers

        wanted = self.with_polymorphic
        if wanted is None:
            return []
        classes = wanted[0] if isinstance(wanted, tuple) else wanted
        return [self, *subclass_mappers(self, classes, "with_polymorphic")]

    @property
    def class_manager(self) -> Any:
        """The class's instrumented attributes by name (a ``ClassManager``)."""
        from athanor.orm.instrumentation import ClassManager

        self._check_configure()
        return ClassManager(self)

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

    def _ordered_props(self) -> dict[str, MapperProperty]:
        """The properties in SQLAlchemy's order: those the class declares that are not
        table columns (relationships, SQL expressions, synonyms, composites), then those
        inherited in the parent's order, then the table columns in table order, then those
        added after the mapping (backrefs)."""
        props = self._props
        keys = list(props)
        parent = None if self.concrete else self.inherits
        explicit = [
            k
            for k in keys[: self._declared_count]
            if props[k].parent is self and not _is_table_column(props[k])
        ]
        ordered = dict.fromkeys(explicit)
        if parent is not None:
            ordered.update(dict.fromkeys(k for k in parent._ordered_props() if k in props))
        for table in self._persist_tables:
            ordered.update(
                dict.fromkeys(
                    key
                    for key in map(self._col_to_key.get, table.c)
                    if key is not None and key not in ordered
                )
            )
        ordered.update(dict.fromkeys(keys))
        return {k: props[k] for k in ordered}

    def _ordered_view(self, kind: type | None = None) -> _PropertyView:
        """The properties (those of class ``kind``) in :meth:`_ordered_props` order."""
        ordered = self._ordered_props()
        if kind is None:
            return _PropertyView(ordered)
        return _PropertyView({k: p for k, p in ordered.items() if isinstance(p, kind)})

    @property
    def attrs(self) -> _PropertyView:
        """All mapped properties by name."""
        self._check_configure()
        return self._ordered_view()

    @property
    def column_attrs(self) -> _PropertyView:
        return self._ordered_view(ColumnProperty)

    @property
    def relationships(self) -> _PropertyView:
        self._check_configure()
        return self._ordered_view(RelationshipProperty)

    @property
    def synonyms(self) -> _PropertyView:
        return self._ordered_view(SynonymProperty)

    @property
    def composites(self) -> _PropertyView:
        """The composite attributes by name."""
        return _PropertyView(
            {k: p for k, p in self._ordered_props().items() if getattr(p, "is_composite", False)}
        )

    @property
    def all_orm_descriptors(self) -> _PropertyView:
        """The mapped attributes, then the extension descriptors (hybrids, association
        proxies) of the class and its bases, by name."""
        found = {k: getattr(self.class_, k) for k in self._props}
        for klass in self.class_.__mro__:
            for name, value in vars(klass).items():
                if name not in found and hasattr(value, "extension_type"):
                    found[name] = value
        return _PropertyView(found)

    @property
    def columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for p in self.column_attrs.values():
            cols.add(p.columns[0], p.key)
        return cols

    c = columns

    @property
    def iterate_properties(self) -> Iterator[MapperProperty]:
        self._check_configure()
        return iter(self._ordered_props().values())

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


_DISCRIMINATOR = "_sa_polymorphic_on"
"""The load key of a discriminator that is a SQL expression rather than a mapped column."""


def _parent_mapper(class_: type, inherits: Any) -> Mapper | None:
    if inherits is None:
        return None
    parent = inherits if isinstance(inherits, Mapper) else inherits.__dict__.get(MAPPER_KEY)
    if not isinstance(parent, Mapper):
        raise sa_exc.ArgumentError(
            f"Class {class_.__name__!r}: inherits={inherits!r} is not a mapped class"
        )
    return parent


def _same_discriminator(parent: Mapper, polymorphic_on: Any) -> bool:
    """Whether a subclass's ``polymorphic_on`` (often inherited with ``__mapper_args__``)
    names the discriminator its base already has."""
    if isinstance(polymorphic_on, str):
        return polymorphic_on == parent._polymorphic_key
    if hasattr(polymorphic_on, "__clause_element__"):
        polymorphic_on = polymorphic_on.__clause_element__()
    if isinstance(polymorphic_on, ColumnProperty):
        polymorphic_on = polymorphic_on.columns[0]
    return bool(polymorphic_on is parent.polymorphic_on)


def _inherit_condition(mapper: Mapper, parent: Mapper) -> ColumnElement:
    """The ON clause joining a joined-table subclass's table to its parent's tables."""
    table = mapper.local_table
    pairs = [
        (fk.parent, fk.column)
        for fk in table.foreign_keys
        if any(fk.references(t) for t in parent._persist_tables)
    ]
    if not pairs:
        base = parent.local_table
        pk = next(iter(base.primary_key), None)
        target = f"{base.name}.{pk.name}" if pk is not None else f"{base.name}.id"
        raise sa_exc.ArgumentError(
            f"Class {mapper.class_.__name__!r} has its own table {table.name!r} but inherits "
            f"{parent.class_.__name__!r} and {table.name!r} has no foreign key to "
            f"{base.name!r}; declare its primary key as "
            f'mapped_column(ForeignKey("{target}"), primary_key=True), or pass '
            "inherit_condition=... in __mapper_args__ (or use concrete=True for a table of its own)"
        )
    return and_(*[child == referenced for child, referenced in pairs])


def _returning(value: Any) -> Callable[[], Any]:
    def get() -> Any:
        return value

    return get


def _identity_setter(key: str, identity: Any) -> Callable[[Any, Any, Any], None]:
    """An ``init`` listener writing the class's discriminator value on new objects."""

    def set_identity(target: Any, args: Any, kwargs: Any) -> None:
        setattr(target, key, identity)

    return set_identity


def _refuse_abstract(target: Any, args: Any, kwargs: Any) -> None:
    """An ``init`` listener of a ``polymorphic_abstract`` class: only its subclasses are
    made."""
    raise sa_exc.InvalidRequestError(
        f"Can't instantiate class {type(target).__name__!r}: its mapper is marked "
        "polymorphic_abstract=True; make an object of one of its subclasses instead"
    )


def _is_table_column(prop: MapperProperty) -> bool:
    return isinstance(prop, ColumnProperty) and not prop.is_expression


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
    mapped now or later, gets the listener (the class itself may be an unmapped base or mixin).
    Without it, a listener on a class not mapped (yet) waits for that very class to be
    mapped: on a declarative base or a mixin, it never fires (as in SQLAlchemy)."""

    def __init__(self) -> None:
        self.entries: list[tuple[type, str, Listener, dict[str, Any], bool]] = []

    def listen(
        self, target: Any, identifier: str, fn: Listener, propagate: bool, options: dict[str, Any]
    ) -> bool:
        if (
            not isinstance(target, type)
            or issubclass(target, EventTarget)
            or identifier not in MAPPER_EVENTS
            or not (
                propagate
                # (configuration events on a base: see _ConfigureEventsOfRegistry)
                or (target.__dict__.get(MAPPER_KEY) is None and identifier not in _CONFIGURE_EVENTS)
            )
        ):
            return False
        self.entries.append((target, identifier, fn, dict(options), propagate))
        for mapper in _mappers_under(target, propagate):
            add_listener(mapper, identifier, fn, **options)
        return True

    def remove(self, target: Any, identifier: str, fn: Listener) -> bool:
        for entry in self.entries:
            if entry[0] is target and entry[1] == identifier and entry[2] is fn:
                self.entries.remove(entry)
                for mapper in _mappers_under(target, entry[4]):
                    if has_listener(mapper, identifier, fn):
                        remove_listener(mapper, identifier, fn)
                return True
        return False

    def apply(self, mapper: Mapper) -> None:
        """Give a new mapper the listeners waiting for its class and those propagated from
        its class's bases."""
        cls = mapper.class_
        for target, identifier, fn, options, propagate in self.entries:
            if cls is target or (propagate and issubclass(cls, target)):
                add_listener(mapper, identifier, fn, **options)


def _mappers_under(target: type, subclasses: bool = True) -> list[Mapper]:
    """The mappers of ``target`` and (``subclasses``) of the classes under it."""
    return [
        mapper
        for reg in list(_all_registries)
        for mapper in reg._mappers
        if mapper.class_ is target or (subclasses and issubclass(mapper.class_, target))
    ]


_propagation = _MapperEventPropagation()
propagators.append(_propagation)

_CONFIGURE_EVENTS = ("before_configured", "after_configured")


class _ConfigureEventsOfRegistry:
    """``before_configured``/``after_configured`` listened on a declarative base: they fire
    around the configuration of that base's registry only.  The ``athanor.orm.mapper`` module
    stands for ``Mapper`` (every configuration run), as the ``mapper`` name does in SQLAlchemy."""

    def __init__(self) -> None:
        self.entries: list[tuple[Registry, str, Listener, Listener]] = []

    def listen(
        self, target: Any, identifier: str, fn: Listener, propagate: bool, options: dict[str, Any]
    ) -> bool:
        if identifier not in _CONFIGURE_EVENTS:
            return False
        if target is sys.modules[__name__]:
            add_listener(Mapper, identifier, fn, **options)
            return True
        reg = _registry_of_base(target)
        if reg is None:
            return False
        if MAPPER_KEY in target.__dict__:
            raise sa_exc.InvalidRequestError(
                f"No such event {identifier!r} for target {target!r}: configuration events "
                "are listened on a declarative base or on Mapper, not on a mapped class"
            )
        wrapped = event_registry._wrap_once(fn) if options.get("once") else fn
        entry = (reg, identifier, fn, wrapped)
        if options.get("insert"):
            self.entries.insert(0, entry)
        else:
            self.entries.append(entry)
        return True

    def remove(self, target: Any, identifier: str, fn: Listener) -> bool:
        if identifier not in _CONFIGURE_EVENTS:
            return False
        if target is sys.modules[__name__]:
            remove_listener(Mapper, identifier, fn)
            return True
        reg = _registry_of_base(target)
        for entry in self.entries:
            if entry[0] is reg and entry[1] == identifier and entry[2] is fn:
                self.entries.remove(entry)
                return True
        return False

    def fire(self, reg: Registry, identifier: str) -> None:
        """Run the listeners of ``identifier`` listened on the bases of ``reg``."""
        for entry in list(self.entries):
            if entry[0] is reg and entry[1] == identifier:
                entry[3]()


def _registry_of_base(target: Any) -> Registry | None:
    """The registry of a declarative base class (mapped or not), else None."""
    from athanor.orm.decl_api import registry as registry_class

    reg = getattr(target, "registry", None) if isinstance(target, type) else None
    return reg if isinstance(reg, registry_class) else None


_configure_events = _ConfigureEventsOfRegistry()
propagators.append(_configure_events)


def _instrument_init(cls: type) -> None:
    """Wrap a class's own ``__init__`` so construction configures mappers and fires ``init``
    (and ``init_failure`` when the constructor raises)."""
    original = cls.__dict__.get("__init__")
    if original is None or getattr(original, "_sa_wrapped", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        mapper = type(self).__dict__.get(MAPPER_KEY) or getattr(type(self), MAPPER_KEY)
        mapper._check_configure()
        if mapper.dispatch.init:
            for fn in mapper.dispatch.init:
                fn(self, args, kwargs)
        if not mapper.dispatch.init_failure:
            original(self, *args, **kwargs)
            return
        try:
            original(self, *args, **kwargs)
        except BaseException:
            for fn in mapper.dispatch.init_failure:
                fn(self, args, kwargs)
            raise

    __init__._sa_wrapped = True  # type: ignore[attr-defined]
    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    __init__.__doc__ = original.__doc__
    cls.__init__ = __init__  # type: ignore[misc]


class _ValidatorByClass(Validator):
    """The validator of an attribute a hierarchy shares but its classes validate
    differently: runs the validator of the instance's own class, if it has one."""

    def __init__(self) -> None:
        super().__init__(_no_validation)

    def __call__(self, instance: Any, key: str, value: Any, initiator: Any = None) -> Any:
        own = _own_validator(instance, key)
        return value if own is None else own(instance, key, value, initiator)

    def removed(self, instance: Any, key: str, value: Any, initiator: Any = None) -> None:
        own = _own_validator(instance, key)
        if own is not None:
            own.removed(instance, key, value, initiator)


def _own_validator(instance: Any, key: str) -> Validator | None:
    mapper: Mapper | None = getattr(type(instance), MAPPER_KEY, None)
    return None if mapper is None else mapper.validators.get(key)


def _no_validation(instance: Any, key: str, value: Any) -> Any:
    return value


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


def reconstructor(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a method run on every instance loaded from the database (``__init__`` is not
    called then), once its column values are in place."""
    fn.__sa_reconstructor__ = True  # type: ignore[attr-defined]
    return fn


def _run_reconstructor(method: Callable[[Any], Any]) -> Callable[[Any, Any], None]:
    def run(target: Any, context: Any) -> None:
        method(target)

    return run


def _next_version(value: Any) -> int:
    return (value or 0) + 1


def configure_mappers() -> None:
    """Resolve every relationship of every registry (called automatically on first use)."""
    if not _State.new_mappers:
        return
    with _configure_lock:
        _configure_registries(list(_all_registries))
        _State.new_mappers = False


def _configure_registry(reg: Registry) -> None:
    _configure_registries([reg])


def _configure_registries(registries: list[Registry]) -> None:
    """Configure the new mappers of ``registries``, between one ``before_configured`` and
    one ``after_configured`` event."""
    me = threading.get_ident()
    pending = [r for r in registries if r._new_mappers and _configuring.get(r) != me]
    if not pending:
        return
    with _configure_lock:
        for fn in class_listeners(Mapper, "before_configured"):
            fn()
        for reg in pending:
            _configure_events.fire(reg, "before_configured")
        for reg in pending:
            _configure_one(reg)
        for reg in pending:
            _configure_events.fire(reg, "after_configured")
        for fn in class_listeners(Mapper, "after_configured"):
            fn()


def _configure_one(reg: Registry) -> None:
    me = threading.get_ident()
    if not reg._new_mappers or _configuring.get(reg) == me:
        # (this thread configures it already: a class used in a relationship's argument,
        # e.g. in a join(), asks again; its table and columns are there already)
        return
    with _configure_lock:
        _configuring[reg] = me
        try:
            _configure_mappers_of(reg)
        finally:
            del _configuring[reg]


def _configure_mappers_of(reg: Registry) -> None:
    with _configure_lock:
        for mapper in list(reg._mappers):
            if mapper._configure_failed is not None:
                raise sa_exc.InvalidRequestError(
                    f"One or more mappers failed to configure ({mapper}), so no mapper of this "
                    "registry can be used until the mapping is fixed; the original error was: "
                    f"{mapper._configure_failed}"
                ) from mapper._configure_failed
        classes = list(dict.fromkeys(m.class_ for m in list(reg._mappers)))
        for cls in classes:
            # Declarative hooks that finish a mapping first (ConcreteBase's union).
            declare_first = getattr(cls, "__declare_first__", None)
            if declare_first is not None:
                declare_first()
        for mapper in list(reg._mappers):
            if mapper._configured:
                continue
            try:
                for fn in mapper.dispatch.before_mapper_configured:
                    fn(mapper, mapper.class_)
                mapper._post_configure()
                for fn in mapper.dispatch.mapper_configured:
                    fn(mapper, mapper.class_)
            except Exception as error:
                mapper._configure_failed = error
                raise
        reg._new_mappers = False
        for cls in classes:
            declare_last = cls.__dict__.get("__declare_last__")
            if declare_last is not None:
                declare_last.__get__(None, cls)()


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
